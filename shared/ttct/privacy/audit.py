"""Who saw or changed which learner's personal data: every answer that carries a `learner_id` is recorded, with
the verified caller, the route and the learners it named (Law 91/2025/QH15: access to personal data is logged).

A middleware rather than a call in each route, so a new route that exposes learners cannot forget it; the
centre's staff read the log at `GET /v1/centres/{centre}/personal-data-access`. An answer the middleware cannot
read (a PDF or a spreadsheet of learners) names them in `request.state.audit_learner_ids` (ttct.papers.http); a
route with no centre in its path names the centre whose log the reading belongs in as `request.state.audit_centre`.
"""
from __future__ import annotations

import asyncio
import json
from datetime import datetime
from uuid import UUID

import structlog
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ttct.http.auth import Principal, centre_access
from ttct.privacy import tenancy

log = structlog.get_logger("ttct.privacy.audit")

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS personal_data_access (
        id           bigserial   PRIMARY KEY,
        at           timestamptz NOT NULL DEFAULT now(),
        centre       text,
        organisation text,
        caller       text        NOT NULL,
        role         text        NOT NULL,
        action       text        NOT NULL,
        route        text        NOT NULL,
        learner_ids  uuid[]      NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS personal_data_access_by_centre ON personal_data_access (centre, id)",
    "CREATE INDEX IF NOT EXISTS personal_data_access_by_learner ON personal_data_access USING gin (learner_ids)",
    # why, when the route was given a reason (`request.state.audit_reason`: an erasure, issue 7)
    "ALTER TABLE personal_data_access ADD COLUMN IF NOT EXISTS reason text",
    tenancy.protect("personal_data_access", tenancy.by_centre(), tenancy.by_organisation("organisation")),
]


def _learner_ids(value: object, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "learner_id" and isinstance(item, str):
                found.add(item)
            else:
                _learner_ids(item, found)
    elif isinstance(value, list):
        for item in value:
            _learner_ids(item, found)


def _named(scope) -> set[str]:
    return (scope.get("state") or {}).get("audit_learner_ids") or set()


class PersonalDataAudit:
    """Pure ASGI middleware; records a 2xx answer naming learners before its last part is sent, so a client that
    has the answer finds it in the log (and an answer whose record fails is not completed)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answer = {"status": 0, "body": b""}

        async def watching(message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                if len(answer["body"]) < 20_000_000:
                    answer["body"] += message.get("body", b"")
                if (not message.get("more_body") and 200 <= answer["status"] < 300
                        and (b'"learner_id"' in answer["body"] or _named(scope))):
                    await self._record(scope, answer["body"])
            await send(message)

        await self.app(scope, receive, watching)

    async def _record(self, scope, body: bytes) -> None:
        found: set[str] = set(_named(scope))
        try:
            _learner_ids(json.loads(body), found)
        except ValueError:
            pass
        if not found:
            return
        principal: Principal | None = (scope.get("state") or {}).get("principal")
        params = scope.get("path_params") or {}
        route = getattr(scope.get("route"), "path", scope["path"])
        state = scope["app"].state
        writer = getattr(state, "audit_writer", None)
        if writer is None:
            writer = state.audit_writer = AuditWriter(state.runtime.pool)
        await writer.record((
            params.get("centre") or (scope.get("state") or {}).get("audit_centre"), params.get("org"),
            principal.subject if principal else "anonymous",
            str(principal.role) if principal else "public", "read" if scope["method"] == "GET" else "change",
            f"{scope['method']} {route}", ",".join(sorted(found)),
            (scope.get("state") or {}).get("audit_reason")))


class AuditWriter:
    """Group commit of access records: the records of the requests answered while one INSERT runs go together in
    the next one, so a busy service writes one statement per burst instead of one per request (a profile under
    load showed the per-request INSERT as an eighth of enrolment's CPU). Each request still waits until its own
    record is stored, so a record is never only in memory when its request's task ends, and a failure surfaces
    in that request's log as before."""

    INSERT = (
        "INSERT INTO personal_data_access (centre, organisation, caller, role, action, route, learner_ids, reason)"
        " SELECT c, o, who, r, a, path, string_to_array(ids, ',')::uuid[], why"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
        " $8::text[]) AS t(c, o, who, r, a, path, ids, why)")

    def __init__(self, pool, max_batch: int = 1000) -> None:
        self.pool, self.max_batch = pool, max_batch
        self._waiting: list[tuple[tuple, asyncio.Future]] = []
        self._writing: asyncio.Task | None = None

    async def record(self, row: tuple) -> None:
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write())
        await asyncio.shield(done)  # a cancelled request must not cancel the others' shared write

    async def _write(self) -> None:
        # one statement holds several requests' records, of several centres: it is written as the service, not as
        # the request that happened to start it (this task's copy of that request's scope)
        tenancy.enter(tenancy.ALL)
        while self._waiting:
            batch, self._waiting = self._waiting[:self.max_batch], self._waiting[self.max_batch:]
            try:
                await self.pool.execute(self.INSERT, *[list(column) for column in zip(*(r for r, _ in batch))])
            except Exception as exc:  # noqa: BLE001 - each waiting request reports it
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)


class AccessView(BaseModel):
    id: int
    at: datetime
    caller: str
    role: str
    action: str
    route: str
    learner_ids: list[UUID]
    reason: str | None = None


def router_for(service: str) -> APIRouter:
    """The audit route of one service (its own database's log), under a path of its own for a gateway."""
    router = APIRouter(prefix="/v1/centres/{centre}", tags=["audit"])

    @router.get(f"/personal-data-access/{service}", response_model=list[AccessView],
                summary=f"Who read or changed learners' personal data in {service} at this centre (newest first)")
    async def personal_data_access(centre: str, request: Request, learner_id: UUID | None = None,
                                   before: int | None = Query(None, ge=1, le=2**63 - 1),
                                   limit: int = Query(100, ge=1, le=1000),
                                   _caller: Principal = centre_access("audit:read")) -> list[AccessView]:
        rows = await request.app.state.runtime.pool.fetch(
            "SELECT id, at, caller, role, action, route, learner_ids, reason FROM personal_data_access"
            " WHERE centre = $1 AND ($2::uuid IS NULL OR $2 = ANY(learner_ids)) AND ($3::bigint IS NULL OR id < $3)"
            " ORDER BY id DESC LIMIT $4", centre, learner_id, before, limit)
        return [AccessView.model_validate(dict(r)) for r in rows]

    return router
