"""`Idempotency-Key` on every POST: other provincial systems retry on every network error, so a retried request
must not do its work twice.

- The same key with the same body (for the same caller, method and path) answers the first response again,
  for `KEEP` (48 h), with `Idempotent-Replayed: true`.
- The same key with another body is refused (422).
- Two requests with one key at the same time: the first does the work, the second waits for its response.
- A 5xx is not kept: the client may retry it for real.
Keys are scoped to the verified caller, so one client can never read another's stored response.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import timedelta

import asyncpg
from fastapi.responses import JSONResponse

from ttct.http.problems import problem_response

KEEP = timedelta(hours=48)
WAIT_FOR_FIRST = 30.0

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
]

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
        mine = await pool.fetchval(
            "INSERT INTO idempotency_keys (caller, key, method, path, body_sha256) VALUES ($1,$2,$3,$4,$5)"
            " ON CONFLICT (caller, key) DO UPDATE SET caller = excluded.caller, method = excluded.method,"
            " path = excluded.path, body_sha256 = excluded.body_sha256, status = NULL, headers = NULL,"
            " body = NULL, created_at = now()"
            " WHERE idempotency_keys.created_at < now() - $6::interval RETURNING true",
            *ident, scope["method"], scope["path"], digest, KEEP)
        if not mine:
            await self._answer_again(pool, ident, scope, digest, send)
            return
        await self._do_once(pool, ident, scope, body, send)

    async def _caller(self, scope, headers) -> str | None:
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if not auth.lower().startswith("bearer "):
            return None
        try:
            principal = await scope["app"].state.verifier.verify(auth[7:].strip())
        except Exception:
            return None
        return f"{principal.role}:{principal.subject}"

    async def _do_once(self, pool, ident, scope, body: bytes, send) -> None:
        captured: dict = {"status": 500, "headers": [], "body": b""}

        async def replay_body():
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                captured["status"], captured["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            if captured["status"] >= 500:
                await pool.execute("DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2", *ident)
            else:
                kept = {k.decode(): v.decode() for k, v in captured["headers"] if k.decode() in _REPLAYED_HEADERS}
                await pool.execute(
                    "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 WHERE caller = $1 AND key = $2",
                    *ident, captured["status"], json.dumps(kept), captured["body"])

    async def _answer_again(self, pool, ident, scope, digest: str, send) -> None:
        for _ in range(int(WAIT_FOR_FIRST / 0.05)):
            row = await pool.fetchrow("SELECT method, path, body_sha256, status, headers, body FROM idempotency_keys"
                                      " WHERE caller = $1 AND key = $2", *ident)
            if row is None:  # the first attempt failed with a 5xx and was forgotten: let this one do the work
                break
            if (row["method"], row["path"], row["body_sha256"]) != (scope["method"], scope["path"], digest):
                response = problem_response(
                    422, "idempotency-key-reused", "Invalid input",
                    "this Idempotency-Key was already used for a different request",
                    "Khóa Idempotency-Key này đã được dùng cho một yêu cầu khác")
                await response(scope, _no_body, send)
                return
            if row["status"] is not None:
                headers = [(k.encode(), v.encode()) for k, v in json.loads(row["headers"]).items()]
                await send({"type": "http.response.start", "status": row["status"],
                            "headers": [*headers, (b"idempotent-replayed", b"true")]})
                await send({"type": "http.response.body", "body": row["body"]})
                return
            await asyncio.sleep(0.05)
        response = JSONResponse({"type": "urn:ttct:problem:idempotency-in-progress", "title": "Conflict",
                                 "status": 409, "detail": "the first request with this key has not finished; retry",
                                 "detail_vi": "Yêu cầu đầu tiên với khóa này chưa xong; vui lòng thử lại"},
                                status_code=409, media_type="application/problem+json")
        await response(scope, _no_body, send)


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
