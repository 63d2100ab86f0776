"""HTTP conventions of this service's routes: the refusals a route can answer, documented in the OpenAPI document
as RFC 9457 problems (`application/problem+json`, as `ttct.http.problems` answers them), and ETag / If-Match.

Every route of a centre or of the province's registers can answer 401 (no or a bad token), 403 (the role may not),
404 (unknown here, or another tenant's) and 422 (invalid input); commands add 400 (an unreadable body) and 409,
conditional updates (If-Match) 412. An update without If-Match still goes ahead (no 428), so
clients written before ETags keep working (the check itself is ttct.domain.versions, inside the decision).
"""
from __future__ import annotations

from typing import Any

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "urn:ttct:problem:<stable code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "what went wrong, in English"},
        "detail_vi": {"type": "string", "description": "the same in Vietnamese"},
    },
    "additionalProperties": True,
}

_MEANING = {
    400: "the body cannot be read (not UTF-8 JSON)",
    401: "no bearer token, or one that does not verify",
    403: "the caller's role may not do this",
    404: "no such resource here (another tenant's look the same)",
    409: "the request breaks a rule of the current state (see the problem's type)",
    412: "If-Match names a version that is no longer the current one: reload and try again",
    413: "the body is larger than this service accepts",
    422: "invalid input (the problem's `errors` name the fields)",
    429: "too many requests from this client: wait for Retry-After seconds",
    503: "the service's database cannot be reached just now; nothing was done: retry after Retry-After seconds",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: each status documented as a problem."""
    return {status: {"description": _MEANING.get(status) or "refused",
                     "content": {"application/problem+json": {"schema": _SCHEMA}}} for status in statuses}


READ = problems(401, 403, 404, 422)
WRITE = problems(400, 409)
CONDITIONAL = problems(400, 409, 412)


def etag(version: int) -> str:
    """The strong ETag of an aggregate's version."""
    return f'"{version}"'


IF_MATCH_DESCRIPTION = ("optional: the ETag of the version you read; the update is refused (412) if it is no longer "
                        "the current one. Without it the update goes ahead (last writer wins).")
