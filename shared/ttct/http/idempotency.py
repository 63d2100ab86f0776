"""`Idempotency-Key` on every POST: other provincial systems retry on every network error, so a retried request
must not do its work twice.

- The same key with the same body (for the same caller, method and path) answers the first response again,
  for `KEEP` (48 h), with `Idempotent-Replayed: true`.
- The same key with another body is refused (422).
- Two requests with one key at the same time: the first does the work, the second waits for its response.
- A 5xx is not kept: the client may retry it for real, unless the request's events were committed before it
  failed: the key is recorded as done in the same transaction as the command's events (the event store's
  `WITH_THE_EVENTS`), so a retry never does the work twice; it is told the work was done but its answer lost.
- A request in progress holds its key for `LEASE` only: a crashed attempt's key is free again after that, and a
  takeover stops the slow first attempt from committing (its events' transaction finds the key no longer its own).
Keys are scoped to the verified caller, so one client can never read another's stored response.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import timedelta
from uuid import UUID, uuid4

import asyncpg
from fastapi.responses import JSONResponse

from ttct.eventsourcing.eventstore import WITH_THE_EVENTS
from ttct.http.problems import problem_response

KEEP = timedelta(hours=48)
WAIT_FOR_FIRST = 30.0
LEASE = timedelta(seconds=60)  # longer than any command takes; a crashed attempt's key is free again after it

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS idempotency_keys (
        caller       text        NOT NULL,
        key          text        NOT NULL,
        method       text        NOT NULL,
        path         text        NOT NULL,
        body_sha256  text        NOT NULL,
        status       integer,
        headers      jsonb,
        body         bytea,
        created_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (caller, key)
    )
    """,
    # the attempt holding the key, until when, and whether its events are committed
    "ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS attempt uuid",
    "ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS lease_until timestamptz",
    "ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS committed boolean NOT NULL DEFAULT false",
]


class KeyTakenOver(Exception):
    """This attempt outlived its lease and a retry took its key over: its events must not commit."""


_CLAIM = (
    "INSERT INTO idempotency_keys (caller, key, method, path, body_sha256, attempt, lease_until)"
    " VALUES ($1, $2, $3, $4, $5, $6, now() + $8::interval)"
    " ON CONFLICT (caller, key) DO UPDATE SET method = excluded.method, path = excluded.path,"
    " body_sha256 = excluded.body_sha256, status = NULL, headers = NULL, body = NULL, created_at = now(),"
    " attempt = excluded.attempt, lease_until = excluded.lease_until, committed = false"
    " WHERE idempotency_keys.created_at < now() - $7::interval"
    # an attempt that never committed and whose lease ran out crashed (or hangs): its key is free again
    " OR (idempotency_keys.status IS NULL AND NOT idempotency_keys.committed"
    "     AND idempotency_keys.lease_until < now() AND idempotency_keys.body_sha256 = excluded.body_sha256"
    "     AND idempotency_keys.method = excluded.method AND idempotency_keys.path = excluded.path)"
    " RETURNING true")

_REPLAYED_HEADERS = {"content-type", "location", "etag"}


class IdempotencyKeys:
    """Pure ASGI middleware; needs `app.state.runtime.pool` and `app.state.verifier`."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"idempotency-key")
        if scope["type"] != "http" or scope["method"] != "POST" or not key:
            await self.app(scope, receive, send)
            return
        caller = await self._caller(scope, headers)
        if caller is None:  # not authenticated: the route answers 401 itself
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        digest = hashlib.sha256(body).hexdigest()
        pool: asyncpg.Pool = scope["app"].state.runtime.pool
        ident = (caller, key.decode("latin-1")[:200])
        while True:
            attempt = uuid4()
            if await pool.fetchval(_CLAIM, *ident, scope["method"], scope["path"], digest, attempt, KEEP, LEASE):
                await self._do_once(pool, ident, attempt, scope, body, send)
                return
            if await self._answer_again(pool, ident, scope, digest, send):
                return

    async def _caller(self, scope, headers) -> str | None:
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if not auth.lower().startswith("bearer "):
            return None
        try:
            principal = await scope["app"].state.verifier.verify(auth[7:].strip())
        except Exception:
            return None
        return f"{principal.role}:{principal.subject}"

    async def _do_once(self, pool, ident, attempt: UUID, scope, body: bytes, send) -> None:
        captured: dict = {"status": 500, "headers": [], "body": b""}

        async def done_with_the_events(conn: asyncpg.Connection) -> None:
            if not await conn.fetchval("UPDATE idempotency_keys SET committed = true"
                                       " WHERE caller = $1 AND key = $2 AND attempt = $3 RETURNING true",
                                       *ident, attempt):
                raise KeyTakenOver(f"Idempotency-Key {ident[1]!r} was taken over by a retry")

        async def replay_body():
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                captured["status"], captured["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        hook = WITH_THE_EVENTS.set(done_with_the_events)
        try:
            await self.app(scope, replay_body, capture)
        finally:
            WITH_THE_EVENTS.reset(hook)
            if captured["status"] >= 500:
                # forgotten, so that the retry does the work, unless the work's events were committed: then the
                # key stays, marked done, with its lease ended so that a retry hears so at once
                await pool.execute("DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2 AND attempt = $3"
                                   " AND NOT committed", *ident, attempt)
                await pool.execute("UPDATE idempotency_keys SET lease_until = now()"
                                   " WHERE caller = $1 AND key = $2 AND attempt = $3", *ident, attempt)
            else:
                kept = {k.decode(): v.decode() for k, v in captured["headers"] if k.decode() in _REPLAYED_HEADERS}
                await pool.execute(
                    "UPDATE idempotency_keys SET status = $4, headers = $5, body = $6"
                    " WHERE caller = $1 AND key = $2 AND attempt = $3",
                    *ident, attempt, captured["status"], json.dumps(kept), captured["body"])

    async def _answer_again(self, pool, ident, scope, digest: str, send) -> bool:
        """Answer as the first attempt did, or refuse; False when the key is free again (try to claim it)."""
        answer_lost = False
        for _ in range(int(WAIT_FOR_FIRST / 0.05)):
            row = await pool.fetchrow("SELECT method, path, body_sha256, status, headers, body, committed,"
                                      " lease_until < now() AS expired FROM idempotency_keys"
                                      " WHERE caller = $1 AND key = $2", *ident)
            if row is None:  # the first attempt failed with a 5xx and was forgotten: let this one do the work
                return False
            if (row["method"], row["path"], row["body_sha256"]) != (scope["method"], scope["path"], digest):
                response = problem_response(
                    422, "idempotency-key-reused", "Invalid input",
                    "this Idempotency-Key was already used for a different request",
                    "Khóa Idempotency-Key này đã được dùng cho một yêu cầu khác")
                await response(scope, _no_body, send)
                return True
            if row["status"] is not None:
                headers = [(k.encode(), v.encode()) for k, v in json.loads(row["headers"]).items()]
                await send({"type": "http.response.start", "status": row["status"],
                            "headers": [*headers, (b"idempotent-replayed", b"true")]})
                await send({"type": "http.response.body", "body": row["body"]})
                return True
            answer_lost = row["committed"]
            if row["expired"]:
                if not row["committed"]:
                    return False  # the first attempt crashed before its work was done: do it now
                break  # done, but the first attempt never answered (it failed or crashed after its commit)
            await asyncio.sleep(0.05)
        if answer_lost:
            response = problem_response(
                409, "idempotency-answer-lost", "Conflict",
                "the request with this Idempotency-Key was carried out, but its answer was lost; "
                "read the resource to see the result and do not send it again",
                "Yêu cầu với khóa Idempotency-Key này đã được thực hiện nhưng câu trả lời bị mất; "
                "hãy đọc lại tài nguyên để xem kết quả, đừng gửi lại")
        else:
            response = JSONResponse({"type": "urn:ttct:problem:idempotency-in-progress", "title": "Conflict",
                                     "status": 409, "detail": "the first request with this key has not finished; retry",
                                     "detail_vi": "Yêu cầu đầu tiên với khóa này chưa xong; vui lòng thử lại"},
                                    status_code=409, media_type="application/problem+json")
        await response(scope, _no_body, send)
        return True


async def _read_body(receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _no_body():
    return {"type": "http.request", "body": b"", "more_body": False}


async def forget_learner(db: asyncpg.Pool | asyncpg.Connection, learner_id: object) -> int:
    """Drop the kept answers that name a learner (issue 7: an erasure leaves no copy of their name behind). A
    retry of one of those requests is then done again, which every command here tolerates."""
    status = await db.execute("DELETE FROM idempotency_keys WHERE body IS NOT NULL"
                              " AND position(convert_to($1::text, 'UTF8') in body) > 0", str(learner_id))
    return int(status.split()[-1])
