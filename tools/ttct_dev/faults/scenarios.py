"""The faults, one function each: a World in, Figures out. `quick` shortens the load, not the fault's shape."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ttct_dev.faults.harness import Figures, World
from ttct_dev.services import SERVICES


async def killed_replicas(root: Path, *, rate: float, quick: bool) -> Figures:
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
        for service in SERVICES:
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


async def database_away(root: Path, *, rate: float, quick: bool) -> Figures:
    """PostgreSQL unreachable for 20 s (a TCP proxy in front of it drops every connection and refuses new ones;
    the embedded server itself keeps running): commands are answered 503 with Retry-After and readiness is false
    meanwhile; afterwards everything recovers by itself."""
    from ttct_dev.faults.proxy import SwitchableProxy

    outage = 20.0
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
            await asyncio.sleep(3 if quick else 8)
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
        finally:
            await proxy.down_quietly()
    return figures


SCENARIOS = {1: killed_replicas, 3: database_away}
