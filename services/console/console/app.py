"""The console's app: sessions, sign-in, the pages, the static assets; wired once from the settings."""
from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import structlog
from authlib.integrations.starlette_client import OAuth
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from ttct.operations import metrics
from ttct.papers.labels import local_day
from ttct.operations.telemetry import configure_tracing, current_trace_headers

from console import i18n, sessions
from console.adapters.api import Problem
from console.entrypoints import (attendance, auth, capacity, centre_register, centres, classes, decisions, evaluation,
                                 evaluation_codes, evaluation_figures, home, hours, imports, learners, lifecycle,
                                 organisation, organisation_hooks, plan, privacy, province, quotas, registers,
                                 reorganisation, results, roster, scores, survey, timetable, verify)
from console.settings import ConsoleSettings
from console.views import render


log = structlog.get_logger()


class Language:
    """The page's language: ?lang= (remembered in a cookie), else the cookie, else Vietnamese.

    Plain ASGI middleware (as SecurityHeaders): Starlette's BaseHTTPMiddleware runs the rest of the request in a
    task of its own and streams the answer through, which a profile of the console showed on every page."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        asked = request.query_params.get("lang")
        token = i18n.current.set(i18n.pick(asked or request.cookies.get("lang")))

        async def remembering(message) -> None:
            if message["type"] == "http.response.start":
                remembered = Response()
                remembered.set_cookie("lang", asked, max_age=365 * 86400, samesite="lax", httponly=True)
                MutableHeaders(scope=message).append("set-cookie", remembered.headers["set-cookie"])
            await send(message)

        try:
            await self.app(scope, receive, remembering if asked in i18n.LOCALES else send)
        finally:
            i18n.current.reset(token)


SECURITY_HEADERS = {
    # only the console's own styles, no script at all yet, never inside another site's frame
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self' {idp}; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    def __init__(self, app, idp: str) -> None:
        self.app = app
        self.headers = {k: v.format(idp=idp) for k, v in SECURITY_HEADERS.items()}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def securing(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(self.headers)
                if scope.get("session"):  # pages of a signed-in person are theirs alone
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, securing)


class ServerTiming:
    """`Server-Timing: app;dur=…`: the milliseconds the console took for a page until its answer started (pages
    are rendered whole before they are sent), as a browser's developer tools show it and the console benchmark
    reads it, apart from the network and the client's own delays."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timing(message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(
                    "server-timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}")
            await send(message)

        await self.app(scope, receive, timing)


def _here(request: Request) -> str:
    """The page asked for, its query included (a year, a filter), to come back to after signing in."""
    return f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path


async def _carry_the_trace(request: httpx.Request) -> None:
    """Each call to a service continues the page's trace, so an operator sees a page and the API calls it made as
    one trace."""
    request.headers.update(current_trace_headers())


def create_app(settings: ConsoleSettings, transport: httpx.AsyncBaseTransport | None = None,
               today: Callable[[], date] = lambda: local_day(datetime.now(UTC))) -> FastAPI:
    """`transport` lets tests put fake services (and a fake identity provider) behind the console; `today`, the
    day the home page is about: the day in Vietnam, whatever the server's clock zone (a UTC server is still on
    yesterday from 17:00 to midnight UTC)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with httpx.AsyncClient(timeout=settings.api_timeout, transport=transport,
                                     event_hooks={"request": [_carry_the_trace]}) as client:
            app.state.http = client
            yield

    app = FastAPI(title="Console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings, app.state.today = settings, today
    app.state.bases = {"scheduling": settings.scheduling_url, "enrolment": settings.enrolment_url,
                       "assessment": settings.assessment_url, "notification": settings.notification_url}
    oauth = OAuth()
    oauth.register("idp", server_metadata_url=settings.oidc_metadata_url, client_id=settings.oidc_client_id,
                   client_secret=settings.oidc_client_secret,
                   client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256",
                                  # as patient with the identity provider as with the services (httpx's own
                                  # 5 s made signing in fail with a 503 on a busy machine)
                                  "timeout": settings.api_timeout,
                                  **({"transport": transport} if transport else {})})
    app.state.oauth = oauth
    configure_tracing(settings.service_name)
    metrics.install(app)  # /metrics: request durations by route, scraped like the services'
    app.include_router(auth.router)
    # organisations, province (its map and its register of centres), public
    for pages in (organisation, organisation_hooks, province, reorganisation, centre_register, verify, survey):
        app.include_router(pages.router)
    for pages in (home, centres, classes, timetable, attendance, imports, roster, quotas, capacity, results, scores,
                  evaluation, evaluation_codes, evaluation_figures, hours, learners, privacy, decisions, plan,
                  registers, lifecycle):
        app.include_router(pages.router)  # lifecycle last: its POST /classes/{id}/{step} would match the others
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    # The probes: the console keeps nothing of its own, so serving is being ready (a service it calls that is down
    # shows on the pages that need it, not as the whole console taken out of rotation).
    @app.get("/healthz/live", include_in_schema=False)
    @app.get("/healthz/ready", include_in_schema=False)
    async def ready() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.exception_handler(sessions.SignInNeeded)
    async def _sign_in(request: Request, _exc: Exception):
        if request.method != "GET":
            return render(request, "signed_out.html", status=401, expired=True)
        return RedirectResponse(f"/sign-in?next={quote(_here(request), safe='/')}", status_code=303)

    @app.exception_handler(sessions.BadCsrfToken)
    async def _csrf(request: Request, _exc: Exception):
        return render(request, "error.html", status=403, message=i18n.gettext(
            "This form has expired. Go back, reload the page and send it again."))

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        if exc.status == 401:  # the token expired or was revoked at the provider
            request.session.clear()
            return RedirectResponse(f"/sign-in?next={quote(_here(request), safe='/')}", status_code=303)
        message = exc.detail_vi if i18n.current.get() == "vi" and exc.detail_vi else exc.detail
        return render(request, "error.html", status=exc.status if exc.status in (403, 404) else 502, message=message)

    @app.exception_handler(httpx.HTTPError)
    async def _unreachable(request: Request, exc: httpx.HTTPError):
        log.warning("service unreachable", error=repr(exc))
        return render(request, "error.html", status=503, message=i18n.gettext(
            "A service of the system cannot be reached just now. Nothing was changed; please try again in a moment."))

    # outermost last: the session must be loaded before the language and the routes run
    app.add_middleware(Language)
    idp = settings.oidc_metadata_url.split("/.well-known/", 1)[0]
    app.add_middleware(SecurityHeaders, idp="/".join(idp.split("/", 3)[:3]))  # the sign-out form may go there
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret, session_cookie="ttct_console",
                       max_age=12 * 3600, same_site="lax", https_only=settings.secure_cookie)
    app.add_middleware(ServerTiming)
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,metrics,static", exclude_spans=["receive", "send"])
    return app
