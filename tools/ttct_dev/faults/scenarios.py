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
    gap = 4.0 if quick else 8.0
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
    """A rolling upgrade, publisher first: assessment restarts with the next release's contracts and writes
    ScoreRecorded and AttendanceRecorded v3, which notification (still the old release) cannot read and parks;
    then notification restarts with the new release too and `python -m ttct.admin notification replay` applies each
    parked stream's events: nothing lost, each applied once (one notice per score), in order."""
    from ttct_dev.faults.upgrade import UPGRADED

    gap = 4.0 if quick else 8.0
    figures = Figures("5. rolling upgrade", "assessment upgraded first (ScoreRecorded and AttendanceRecorded v3) "
                      "mid-load, notification parks them; notification upgraded, its dead letters replayed")
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
        w.mark(f"notification (old release) holds {len(parked)} dead letters")
        if not parked:
            figures.problems.append("the old reader parked nothing: the new version did not reach it")
        for replica in fleet.nodes["notification"]:
            w.mark(f"upgrading {replica.name}")
            await fleet.restart(replica, upgraded)
        await asyncio.sleep(gap)
        replayed = await _replay_all(w, fleet, "notification", upgraded)
        left = await _dead_letters(fleet, "notification", upgraded)
        figures.notes.append(f"{len(parked)} events parked by the old reader; {replayed} parked streams replayed "
                             f"after its upgrade; {len(left)} dead letters left")
        if left:
            figures.problems.append(f"{len(left)} dead letters left after the replays")
        figures.recover = w.recovered_after(at)
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
    """Replay each parked stream's first dead letter (its held successors go with it) until none is left."""
    replayed = 0
    for _ in range(20):
        letters = await _dead_letters(fleet, service, extra_env)
        if not letters:
            break
        heads: dict[tuple[str, str], dict] = {}
        for letter in letters:
            key = (letter["consumer"], letter["stream_id"])
            if key not in heads or letter["stream_version"] < heads[key]["stream_version"]:
                heads[key] = letter
        for letter in heads.values():
            said = await _admin(fleet, service, extra_env, "replay", str(letter["id"]))
            w.mark(f"replay {letter['id']} ({letter['stream_id']} v{letter['stream_version']}): {said.strip()[:120]}")
            replayed += 1
    return replayed


SCENARIOS = {1: killed_replicas, 3: database_away, 5: rolling_upgrade}
