"""A small app behind the real Idempotency-Key middleware and the real event store, for the integration tests;
run as a script it starts one request that hangs in the middle of its command, to be killed (a crash)."""
from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from types import SimpleNamespace

import asyncpg
import httpx
from fastapi import FastAPI, Request
from helpers import envelopes
from ttct.eventsourcing.eventstore import EventStore
from ttct.http import idempotency

HEADERS = {"Authorization": "Bearer staff-lan"}


class Verifier:
    async def verify(self, token: str):
        return SimpleNamespace(role="staff", subject=token)


def app_on(pool: asyncpg.Pool, hang: asyncio.Event | None = None) -> FastAPI:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(pool=pool)
    app.state.verifier = Verifier()
    store = EventStore(pool)

    @app.post("/classes/{stream}", status_code=201)
    async def open_class(stream: str, request: Request) -> dict:
        body = await request.json()
        if hang is not None:
            print("started", flush=True)
            await hang.wait()
        await store.append(envelopes(f"scheduling:class:{stream}", 0, province=body["province"]), 0)
        if body.get("fail_after_commit"):
            raise RuntimeError("the view could not be read back")
        return {"opened": stream}

    app.add_middleware(idempotency.IdempotencyKeys)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://test")


async def _hang_in_the_middle(database: str, path: str, key: str, province: str) -> None:
    pool = await asyncpg.create_pool(database, min_size=1, max_size=4)
    async with client(app_on(pool, hang=asyncio.Event())) as http:
        await http.post(path, json={"province": province}, headers={**HEADERS, "Idempotency-Key": key})


if __name__ == "__main__":
    idempotency.LEASE = timedelta(seconds=float(sys.argv[5]))
    asyncio.run(_hang_in_the_middle(*sys.argv[1:5]))
