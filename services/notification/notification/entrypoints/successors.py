"""What an organisation reads includes the organisations it took over (merged into it, or dissolved with it as
their successor) once that is in force: their learners, records and result reports."""
from __future__ import annotations

from fastapi import Request
from ttct.papers.labels import local_day
from ttct.privacy import tenancy

from notification.adapters import successions


async def taken_over(request: Request, org: str) -> list[str]:
    """`org` and its predecessors in force today. An organisation's token is let see the predecessors' rows for
    the rest of the request (row-level security admits a token's own organisations only)."""
    runtime = request.app.state.runtime
    codes = await successions.family(runtime.pool, org, local_day(runtime.clock()))
    scope = tenancy.current()
    if len(codes) > 1 and scope.kind == "tenant" and org in scope.organisations:
        tenancy.enter(tenancy.tenant(scope.centres, scope.organisations | frozenset(codes)))
    return codes
