"""The faults, one function each: a World in, Figures out. `quick` shortens the load, not the fault's shape."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ttct_dev.faults.harness import Figures, World
from ttct_dev.services import SERVICES


async def killed_replicas(root: Path, *, rate: float, quick: bool, services=SERVICES) -> Figures:
    """Every service as two processes; kill -9 one replica of each service in turn, mid-load. The survivors
    take the relay's leadership and the consumers' work over; the killed ones stay dead to the end."""
    gap = 4.0 if quick else 6.0
    figures = Figures("1. replica killed", "kill -9 one of two replicas of each service in turn, "
                      f"{gap:.0f} s apart, mid-load; the survivors run on alone")
    async with World(root, "killed-replicas", rate=rate) as w:
        fleet = await w.start_fleet(replicas=2)
        w.load.start()
        await asyncio.sleep(gap)
        recoveries = []
        for service in services:
            victim = fleet.nodes[service][0]
            killed = w.mark(f"kill -9 {victim.name} (pid {victim.process.pid})")
            victim.kill()
            await asyncio.sleep(gap)
            recoveries.append((service, killed))
        await asyncio.sleep(gap)
        # notification takes no commands: its survivor's work shows in the audit (every notice delivered once)
        times = [w.recovered_after(t, (service,)) for service, t in recoveries if service != "notification"]
        figures.recover = max(times) if None not in times else None
        await w.finish(figures)
        figures.notes.append("the killed replicas were not restarted: the survivors did all the work after")
    return figures


async def database_away(root: Path, *, rate: float, quick: bool, outage: float = 20.0) -> Figures:
    """PostgreSQL unreachable for 20 s (a TCP proxy in front of it drops every connection and refuses new ones;
    the embedded server itself keeps running): commands are answered 503 with Retry-After and readiness is false
    meanwhile; afterwards everything recovers by itself."""
    from ttct_dev.faults.proxy import SwitchableProxy

    figures = Figures("3. PostgreSQL away", f"every connection to PostgreSQL dropped and refused for {outage:.0f} s "
                      "(a switchable TCP proxy in front of the embedded server), mid-load")
    async with World(root, "database-away", rate=rate) as w:
        proxy = await SwitchableProxy(w.stack_info.postgres_url).up()
        try:
            fleet = await w.start_fleet(replicas=1, database_server=proxy.url)
            w.load.start()
            await asyncio.sleep(3 if quick else 8)
            down = w.mark("PostgreSQL unreachable")
            await proxy.down()
            unready: set[str] = set()
            while time.monotonic() - down < outage:
                for replica in fleet.all():
                    if not await fleet.ready(replica):
                        unready.add(replica.name)
                await asyncio.sleep(1.0)
            up = w.mark("PostgreSQL reachable again")
            await proxy.up()
            await asyncio.sleep(6 if quick else 10)
            back = [a for a in w.load.ledger.attempts if down <= a.at < up]
            answered = [a for a in back if a.status is not None]
            with_retry_after = [a for a in answered if a.status == 503 and a.retry_after]
            figures.notes.append(f"during the outage {len(with_retry_after)} of {len(answered)} answers were 503 "
                                 f"with Retry-After; not ready: {len(unready)} of {len(fleet.all())} processes")
            if not with_retry_after or any(a.status // 100 == 2 for a in answered if a.service != "notification"):
                figures.problems.append("commands were not all answered 503 with Retry-After during the outage")
            if len(unready) < len(fleet.all()):
                figures.problems.append(f"readiness stayed true on {sorted({r.name for r in fleet.all()} - unready)}")
            figures.recover = w.recovered_after(up)
            await w.finish(figures)
            waited = [c.answered - up for c in w.load.ledger.commands if c.started < up and c.answered]
            if waited:
                figures.notes.append(f"the last command sent during the outage was answered {max(waited):.1f} s "
                                     "after the database came back")
        finally:
            await proxy.down_quietly()
    return figures


async def rolling_upgrade(root: Path, *, rate: float, quick: bool) -> Figures:
    """A rolling upgrade, publisher first: assessment restarts with the next release (ttct_dev.faults.upgrade),
    which writes a new event type, ResultSchemePinned, before each learner's first score, and AttendanceRecorded v3;
    notification (still the old release) can read neither and parks their streams, each score held behind its
    learner's ResultSchemePinned. Then notification restarts with the new release too and `python -m ttct.admin
    notification replay` applies each parked stream's events: nothing lost, each applied once (one notice per
    score), in order per stream."""
    from ttct_dev.faults.upgrade import NEW_TYPES, NEW_VERSIONS, UPGRADED

    gap = 4.0 if quick else 6.0
    figures = Figures("5. rolling upgrade", "assessment upgraded first mid-load (a new event type, ResultSchemePinned, "
                      "and AttendanceRecorded v3), notification parks them; notification upgraded, its dead letters "
                      "replayed")
    upgraded = {"PYTHONPATH": str(UPGRADED)}
    async with World(root, "rolling-upgrade", rate=rate) as w:
        fleet = await w.start_fleet(replicas=1)
        w.load.start()
        await asyncio.sleep(gap)
        for replica in fleet.nodes["assessment"]:
            at = w.mark(f"upgrading {replica.name}")
            await fleet.restart(replica, upgraded)
        await asyncio.sleep(2 * gap)
        parked = await _dead_letters(fleet, "notification", upgraded)
        causes = _parked_by(parked, [c.event_type for c in NEW_TYPES], [c.event_type for c in NEW_VERSIONS])
        w.mark(f"notification (old release) holds {len(parked)} dead letters: {causes}")
        for cause, n in causes.items():
            if not n and cause.startswith(("unknown", "newer")):
                figures.problems.append(f"the old reader parked nothing for {cause}: it did not reach it")
            if n and cause == "other":
                figures.problems.append(f"the old reader parked {n} events for another reason")
        for replica in fleet.nodes["notification"]:
            w.mark(f"upgrading {replica.name}")
            await fleet.restart(replica, upgraded)
        await asyncio.sleep(gap)
        replayed = await _replay_all(w, fleet, "notification", upgraded)
        left = await _dead_letters(fleet, "notification", upgraded)
        figures.notes.append(f"{len(parked)} events parked by the old reader ("
                             + ", ".join(f"{n} {cause}" for cause, n in causes.items())
                             + f"); {replayed} parked streams replayed after its upgrade; {len(left)} dead letters "
                             "left")
        if left:
            figures.problems.append(f"{len(left)} dead letters left after the replays")
        figures.recover = w.recovered_after(at)
        await w.finish(figures)
    return figures


def _parked_by(letters: list[dict], new_types: list[str], new_versions: list[str]) -> dict[str, int]:
    """How many streams each new contract parked (by the reader's error: consumer.describe of UnknownEvent), and
    how many events were held behind them."""
    causes = {**{f"unknown type {t}": 0 for t in new_types}, **{f"newer {t}": 0 for t in new_versions}, "held": 0}
    for letter in letters:
        error = letter["error"]
        cause = ("held" if error.startswith("held")
                 else next((f"unknown type {t}" for t in new_types if f"unknown event type '{t}'" in error),
                           next((f"newer {t}" for t in new_versions if f"{t} v" in error and "newer" in error),
                                "other")))
        causes[cause] = causes.get(cause, 0) + 1
    return causes


async def nats_cluster(root: Path, *, rate: float, quick: bool) -> Figures:
    """A three-node NATS cluster, every stream R3, the services given all three URLs: kill -9 the ENROLMENT
    stream's leader mid-load, later a second node for a few seconds (JetStream loses its quorum meanwhile);
    then both start again on their stores."""
    from ttct.eventsourcing.topology import PUBLISHES

    from ttct_dev.faults.cluster import NatsNodes

    gap = 5.0 if quick else 6.0
    figures = Figures("2. NATS node killed", "3-node NATS cluster, streams R3: kill -9 the ENROLMENT stream's "
                      "leader, later a second node for 3 s (no quorum); both restarted")
    nodes = await NatsNodes(root / "nats-cluster" / "nats", 3).start()
    try:
        await nodes.provision("thanh-hoa", 3)
        async with World(root, "nats-cluster", rate=rate, nats_url=nodes.url) as w:
            await w.start_fleet(replicas=1, env={"NATS_STREAM_REPLICAS": "3"})
            w.load.start()
            await asyncio.sleep(gap)
            leader = await nodes.stream_leader(PUBLISHES["enrolment"])
            killed = w.mark(f"kill -9 n{leader}, the leader of {PUBLISHES['enrolment']}")
            nodes.kill(leader)
            await asyncio.sleep(gap)
            second = (leader + 1) % 3
            w.mark(f"kill -9 n{second} as well: one node of three left")
            nodes.kill(second)
            await asyncio.sleep(3.0)
            nodes.start_node(second)
            nodes.start_node(leader)
            back = w.mark(f"n{second} and n{leader} started again")
            await asyncio.sleep(2 * gap)
            new_leader = await nodes.stream_leader(PUBLISHES["enrolment"])
            figures.notes.append(f"{PUBLISHES['enrolment']} led by n{new_leader} afterwards")
            accepted_while = w.load.ledger.window(killed, back)
            figures.notes.append(f"{accepted_while[1]} of {accepted_while[0]} commands sent while nodes were down "
                                 "were answered 2xx")
            figures.recover = w.recovered_after(back)
            await w.finish(figures)
    finally:
        await asyncio.to_thread(nodes.stop)
    return figures


async def nats_and_vault_away(root: Path, *, rate: float, quick: bool) -> Figures:
    """NATS entirely down for 20 s (its one server killed, then started again on its store): commands are still
    accepted (the outbox keeps their events) and the relays catch up. Then the key vault's database refuses
    connections for 45 s (ALLOW_CONNECTIONS false, its sessions ended) while the consumers project: nothing is
    dead-lettered, the consumers wait and carry on."""
    import asyncpg

    from ttct_dev.faults.cluster import NatsNodes

    nats_outage, vault_outage = 20.0, 45.0
    gap = 4.0 if quick else 8.0
    figures = Figures("4. NATS away, key vault away", f"the NATS server killed for {nats_outage:.0f} s; later the "
                      f"key vault's database refusing connections for {vault_outage:.0f} s")
    nodes = await NatsNodes(root / "nats-vault" / "nats", 1).start()
    try:
        async with World(root, "nats-vault", rate=rate, nats_url=nodes.url) as w:
            fleet = await w.start_fleet(replicas=1)
            w.load.start()
            await asyncio.sleep(gap)
            # a class opened now would reach the other services only after the outage: the flows keep to the
            # current one, whose enrolments need nothing from NATS
            w.load.new_classes = False
            down = w.mark("NATS killed")
            nodes.kill(0)
            await asyncio.sleep(nats_outage)
            nodes.start_node(0)
            up = w.mark("NATS started again")
            w.load.new_classes = True
            sent, accepted = w.load.ledger.window(down, up)
            enrolments = [c for c in w.load.ledger.commands if down <= c.started < up and c.kind == "enrolment"]
            answered = [c for c in enrolments if c.accepted and c.answered < up]
            figures.notes.append(f"while NATS was down {len(answered)} of {len(enrolments)} enrolments sent were "
                                 "answered 2xx at once (their attendance and score waited for assessment to hear of "
                                 "the learner)")
            if not answered:
                figures.problems.append("no command was accepted while NATS was down")
            await asyncio.sleep(gap)
            figures.recover = w.recovered_after(up)
            admin = await asyncpg.connect(w.stack_info.postgres_url)
            try:
                vault = fleet.key_vault.rsplit("/", 1)[1]
                shut = w.mark("the key vault's database refuses connections")
                await admin.execute(f'ALTER DATABASE "{vault}" ALLOW_CONNECTIONS false')
                await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                                    vault)
                await asyncio.sleep(vault_outage)
                await admin.execute(f'ALTER DATABASE "{vault}" ALLOW_CONNECTIONS true')
                opened = w.mark("the key vault's database accepts connections again")
            finally:
                await admin.close()
            await asyncio.sleep(gap)
            sent, accepted = w.load.ledger.window(shut, opened)
            vault_503 = sum(1 for a in w.load.ledger.attempts if shut <= a.at < opened and a.status == 503
                            and a.retry_after)
            figures.notes.append(f"while the key vault was away {vault_503} answers were 503 with Retry-After and "
                                 f"{accepted} of {sent} commands sent were answered 2xx (eventually); every service "
                                 f"answered 2xx again {w.recovered_after(opened)} s after the vault was back")
            await w.finish(figures)
            figures.notes.append(f"{figures.dead_letters} dead letters")
            if figures.dead_letters:
                figures.problems.append(f"{figures.dead_letters} events dead-lettered")
                figures.ok = False
    finally:
        await asyncio.to_thread(nodes.stop)
    return figures


async def bad_receivers_and_poison(root: Path, *, rate: float, quick: bool) -> Figures:
    """Webhook receivers that misbehave for a while (one hangs past the sender's timeout, one answers 500, one
    closes the connection mid-body), then recover; and a poison event: notification, restarted with a bug, cannot
    apply a score of 9.9 and dead-letters it; restarted with the fix, `ttct.admin notification replay` applies it
    once. Every notice reaches its receiver once (one webhook-id across its retries)."""
    from ttct_dev.faults.load import ORGANISATIONS
    from ttct_dev.faults.poison import POISON, POISONED
    from ttct_dev.faults.receivers import MODES, MisbehavingReceiver

    misbehave = 10.0 if quick else 15.0
    figures = Figures("6. bad receivers, poison event", f"receivers hang, answer 500, close mid-body for "
                      f"{misbehave:.0f} s; a notification release with a bug dead-letters a score, the fixed one "
                      "replays it")
    async with World(root, "receivers-poison", rate=rate, receiver=MisbehavingReceiver()) as w:
        fleet = await w.start_fleet(replicas=1, env={
            "WEBHOOK_TIMEOUT": "2", "WEBHOOK_LEASE": "10", "WEBHOOK_RETRY_SCHEDULE": "0,1,2,3,5,5,5,5,5,5,5,5",
            "WEBHOOK_RETRY_JITTER": "0", "WEBHOOK_DISABLE_AFTER_FAILURES": "1000", "CONSUMER_MAX_DELIVER": "2"})
        w.receiver.modes = {code: mode for (code, _), mode in zip(ORGANISATIONS, MODES, strict=True)}
        w.load.start()
        await asyncio.sleep(3)
        w.receiver.until = w.mark(f"receivers misbehave for {misbehave:.0f} s: {w.receiver.modes}") + misbehave
        await asyncio.sleep(misbehave)
        healed = w.mark(f"receivers answer again; misbehaved on {dict(w.receiver.misbehaved)} attempts")
        notification = fleet.nodes["notification"][0]
        w.mark("notification restarted with a bug")
        await fleet.restart(notification, {"PYTHONPATH": str(POISONED)})
        poison = await w.load.flow(10_000, score=float(POISON))
        letters = []
        for _ in range(60):
            letters = await _dead_letters(fleet, "notification", {})
            if letters:
                break
            await asyncio.sleep(1)
        w.mark(f"poison score dead-lettered: {len(letters)} dead letter(s)")
        if len(letters) != 1:
            figures.problems.append(f"{len(letters)} dead letters for the poison event, not 1")
        await fleet.restart(notification)
        w.mark("notification restarted with the fix")
        for letter in letters:
            said = await _admin(fleet, "notification", {}, "replay", str(letter["id"]))
            w.mark(f"ttct.admin notification replay {letter['id']}: {said.strip()[:100]}")
        left = await _dead_letters(fleet, "notification", {})
        figures.notes.append(f"receivers misbehaved on {sum(w.receiver.misbehaved.values())} attempts "
                             f"({dict(w.receiver.misbehaved)}); poison score {POISON} dead-lettered "
                             f"{len(letters)}×, replayed, {len(left)} dead letters left")
        if left:
            figures.problems.append(f"{len(left)} dead letters left after the replay")
        if poison is None:
            figures.problems.append("the poison score was not accepted")
        await asyncio.sleep(3)
        figures.recover = w.recovered_after(healed)
        await w.finish(figures)
    return figures


async def _admin(fleet, service: str, extra_env: dict[str, str], *args: str) -> str:
    import subprocess
    import sys

    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "ttct.admin", service, *args],
                                   env={**fleet.admin_env(service), **extra_env}, capture_output=True, text=True,
                                   timeout=120)
    if done.returncode:
        raise RuntimeError(f"ttct.admin {service} {' '.join(args)}: {done.stderr.strip()[-500:]}")
    return done.stdout


async def _dead_letters(fleet, service: str, extra_env: dict[str, str]) -> list[dict]:
    import json

    return [json.loads(line) for line in (await _admin(fleet, service, extra_env, "dead-letters")).splitlines()
            if line.strip()]


async def _replay_all(w: World, fleet, service: str, extra_env: dict[str, str]) -> int:
    """The first parked stream through the CLI itself (`python -m ttct.admin <service> replay <id>`), the others
    through the same functions in one process (ttct_dev.faults.replay_all); the number of replays."""
    import json
    import subprocess
    import sys

    letters = await _dead_letters(fleet, service, extra_env)
    if not letters:
        return 0
    first = min(letters, key=lambda letter: letter["id"])  # a parked stream's first: its later ones come after
    said = await _admin(fleet, service, extra_env, "replay", str(first["id"]))
    w.mark(f"ttct.admin {service} replay {first['id']} ({first['stream_id']} v{first['stream_version']}): "
           f"{said.strip()[:100]}")
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "ttct_dev.faults.replay_all", service],
                                   env={**fleet.admin_env(service), **extra_env}, capture_output=True, text=True,
                                   timeout=300)
    if done.returncode:
        raise RuntimeError(f"replay_all {service}: {done.stderr.strip()[-500:]}")
    replays = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    w.mark(f"{len(replays)} more parked streams replayed")
    return 1 + len(replays)


SCENARIOS = {1: killed_replicas, 2: nats_cluster, 3: database_away, 4: nats_and_vault_away, 5: rolling_upgrade,
             6: bad_receivers_and_poison}
