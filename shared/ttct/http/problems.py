"""HTTP conventions shared by every service: RFC 9457 problem responses and health endpoints."""
from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ttct.contracts import EventMetadata
from ttct.domain.errors import DomainError
from ttct.eventsourcing.eventstore import ConcurrencyConflict
from ttct.operations.telemetry import current_trace_headers

PROBLEM = "application/problem+json"


class Problem(Exception):
    """A refusal a user can act on: HTTP status, a stable machine-readable code, English and Vietnamese text."""

    def __init__(self, status: int, code: str, detail: str, detail_vi: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.detail_vi, self.extra = status, code, detail, detail_vi, extra


def problem_response(status: int, code: str, title: str, detail: str, detail_vi: str | None = None,
                     **extra: Any) -> JSONResponse:
    body = {"type": f"urn:ttct:problem:{code}", "title": title, "status": status, "detail": detail}
    if detail_vi:
        body["detail_vi"] = detail_vi
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


_TITLES = {400: "Bad request", 401: "Unauthorised", 403: "Forbidden", 404: "Not found", 409: "Conflict",
           412: "Precondition failed", 413: "Payload too large", 422: "Invalid input", 429: "Too many requests"}


RETRY_AFTER_SECONDS = 5

# What PostgreSQL being down, restarting or failing over looks like to asyncpg: refused or dropped connections,
# "the database system is starting up / shutting down", a terminated backend, no connection slot left.
_UNAVAILABLE = (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                asyncpg.TooManyConnectionsError)


# ALTER DATABASE … ALLOW_CONNECTIONS false (the key vault's, say), a database being dropped or restarted: its 55000 is
# also an ordinary state error, so only this message counts (as for the consumers, ttct.eventsourcing.consumer)
_UNAVAILABLE_TEXT = ("not currently accepting connections",)


def database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, _UNAVAILABLE):
        return True
    if isinstance(exc, asyncpg.PostgresError) and any(t in str(exc) for t in _UNAVAILABLE_TEXT):
        return True
    # a pooled connection the server dropped while it was in use
    return isinstance(exc, asyncpg.InterfaceError) and "connection" in str(exc) and "closed" in str(exc)


def unavailable_response() -> JSONResponse:
    response = problem_response(
        503, "database-unavailable", "Service unavailable",
        "the service's database cannot be reached just now; nothing was done: retry the request shortly",
        "Hiện không kết nối được cơ sở dữ liệu của dịch vụ; yêu cầu chưa được thực hiện: vui lòng thử lại sau ít phút")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailable:
    """Pure ASGI middleware, outside those that use the database themselves (the Idempotency-Key's): a request
    that fails because PostgreSQL cannot be reached is answered 503 with Retry-After, as a problem, not a bare 500.
    The pool opens new connections by itself once PostgreSQL is back."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started or not database_unavailable(exc):
                raise
            await unavailable_response()(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.code, _TITLES.get(exc.status, "Error"), exc.detail,
                                exc.detail_vi, **exc.extra)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc.status, exc.code, _TITLES.get(exc.status, "Error"), exc.detail,
                                exc.detail_vi, **exc.extra)

    @app.exception_handler(ConcurrencyConflict)
    async def _conflict(_: Request, exc: ConcurrencyConflict) -> JSONResponse:
        return problem_response(409, "concurrency-conflict", "Conflict",
                                "Someone changed this record at the same time; reload and try again.",
                                "Dữ liệu vừa được người khác thay đổi; vui lòng tải lại và thử lại.")

    @app.exception_handler(asyncpg.DataError)
    async def _out_of_range(_: Request, exc: asyncpg.DataError) -> JSONResponse:
        if isinstance(exc, (asyncpg.UntranslatableCharacterError, asyncpg.CharacterNotInRepertoireError)):
            # a text the contracts' types let through (they refuse control characters): say it in our words
            return problem_response(422, "invalid-input", "Invalid input",
                                    "a text contains a character that cannot be stored (a control character?)",
                                    "Dữ liệu có ký tự không lưu được (ký tự điều khiển?)")
        # e.g. a number beyond what PostgreSQL stores: the input is wrong, not the service
        return problem_response(422, "invalid-input", "Invalid input", f"a value is out of range: {exc}",
                                "Một giá trị nằm ngoài phạm vi cho phép")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(422, "invalid-input", "Invalid input", summary,
                                f"Dữ liệu không hợp lệ: {summary}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # only the framework says 400: a body it cannot parse (broken multipart, a form it cannot read), which
            # is bad input like any other
            return problem_response(422, "invalid-input", "Invalid input",
                                    f"the request body could not be read: {exc.detail}",
                                    f"Không đọc được dữ liệu gửi lên: {exc.detail}")
        return problem_response(exc.status_code, "http-error", _TITLES.get(exc.status_code, "Error"),
                                str(exc.detail))


def command_metadata(request: Request, province: str, centre: str) -> EventMetadata:
    """Metadata for the events a request causes: its correlation id and trace context."""
    header = request.headers.get("x-correlation-id")
    try:
        correlation = UUID(header) if header else uuid4()
    except ValueError:
        correlation = uuid4()
    trace_headers = current_trace_headers()
    return EventMetadata(province=province, centre=centre, correlation_id=correlation,
                         traceparent=trace_headers.get("traceparent"), tracestate=trace_headers.get("tracestate"))
