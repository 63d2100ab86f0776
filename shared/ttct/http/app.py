"""Building a service's FastAPI app and running it: the same for every service, written once."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from ttct import centres
from ttct.http import conventions, idempotency
from ttct.http.auth import TokenVerifier
from ttct.http.limits import BodySizeLimit, RateLimit
from ttct.http.problems import DatabaseUnavailable, install_problem_handlers
from ttct.operations import metrics
from ttct.operations.collector import pace_collector
from ttct.operations.logging import configure_logging
from ttct.operations.runtime import Runtime, serve
from ttct.operations.settings import S, load_settings
from ttct.operations.telemetry import configure_tracing
from ttct.privacy import audit, tenancy


def build_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    on_start: Callable[[FastAPI, Runtime], None] = lambda _app, _rt: None,
) -> FastAPI:
    """The service's app; `on_start` wires what needs the started runtime (e.g. aggregates on the store)."""
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with runtime.lifespan(app):
            on_start(app, runtime)
            yield

    app = FastAPI(title=title, version="1", description=description, lifespan=lifespan)
    app.state.verifier = TokenVerifier(settings)
    app.state.centre_successions = centres.Register(lambda: runtime.pool, centres.local_today(lambda: runtime.clock()))
    runtime.install(app)
    install_problem_handlers(app)
    for router in [*routers, audit.router_for(settings.service_name)]:
        app.include_router(router)
    app.add_middleware(audit.PersonalDataAudit)
    app.add_middleware(idempotency.IdempotencyKeys)
    app.add_middleware(DatabaseUnavailable)  # outside the keys: their own statements fail too when PostgreSQL is down
    # outside the idempotency keys: a refused request is neither read whole nor remembered as a key's answer
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimit, rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst)
    _document_conventions(app)
    metrics.install(app)
    # the outermost of the app's middleware: every request starts with no rows until its caller is verified
    app.add_middleware(tenancy.RequestScope)
    # One server span per request: the ASGI instrumentation's "http send"/"http receive" spans (two to four more per
    # request, each with its attributes) cost about as much CPU as the rest of tracing and tell an operator nothing
    # the server span's duration and status do not
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,metrics", exclude_spans=["receive", "send"])
    return app


def _document_conventions(app: FastAPI) -> None:
    """Say in the OpenAPI document what every route shares: refusals as RFC 9457 problems (the handlers in
    ttct.http.problems answer them so), and the Idempotency-Key every POST takes (the middleware handles it)."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for method, operation in operations.items():
                    shared = [401, 403, 404, 409, 413, 422, 429, 503] + ([400] if method != "get" else [])
                    public = "public" in operation.get("tags", [])
                    for status, documented in conventions.problems(*shared).items():
                        if public and status in (401, 403):
                            continue
                        responses = operation.setdefault("responses", {})
                        if str(status) not in responses or status == 422:
                            responses[str(status)] = {**documented,
                                                      "description": responses.get(str(status), documented)
                                                      .get("description", documented["description"])}
                post = operations.get("post")
                if post is not None:
                    post.setdefault("parameters", []).append({
                        "name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 200},
                        "description": "Retry-safe: the same key and body answer the first response again "
                                       "(48 h); another body with the same key is refused (422). If the work "
                                       "was done but its answer lost (a failure after it was committed), a "
                                       "retry is answered 409 idempotency-answer-lost and nothing is done "
                                       "again.",
                    })
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def main(settings_class: type[S], create_app: Callable[[S], FastAPI]) -> None:
    settings = load_settings(settings_class)
    pace_collector()  # a consumer batch's objects die young: see ttct.operations.collector
    serve(create_app(settings), settings)
