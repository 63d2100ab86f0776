"""Who is signed in, for how long, and the CSRF token of their forms.

The session is a signed cookie (Starlette's SessionMiddleware: HttpOnly, SameSite=Lax, Secure outside localhost)
holding the person's name, role and centres as the identity provider stated them, their access token, the
CSRF token and when they last made a request: after `session_idle_minutes` without one they are signed out.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request

from ttct.http.auth import ROLE_PERMISSIONS, Role

from console.adapters.api import Api


class SignInNeeded(Exception):
    """The request needs a signed-in person: the handler sends the browser to sign in, then back here."""


class BadCsrfToken(Exception):
    pass


@dataclass(frozen=True)
class Person:
    subject: str
    name: str
    role: str
    centres: tuple[str, ...]
    organisation: str | None = None
    """A sending organisation's person: the organisation (claim `org`) whose pages they see, and no other."""

    def may(self, permission: str) -> bool:
        """Whether to offer an action at all (the services' own table of roles); the service still decides."""
        try:
            granted = ROLE_PERMISSIONS[Role(self.role)]
        except ValueError:
            return False
        return "*" in granted or permission in granted


def start(request: Request, claims: dict, token: dict) -> None:
    """Remember the person the identity provider vouched for (a fresh session: no fixation)."""
    request.session.clear()
    centres = claims.get("centres", claims.get("centre")) or []
    request.session.update({
        "person": {"subject": claims["sub"], "name": claims.get("name") or claims["sub"],
                   "role": claims.get("role", ""), "centres": [centres] if isinstance(centres, str) else centres,
                   "organisation": claims.get("org")},
        "token": token["access_token"], "expires_at": token.get("expires_at") or time.time() + 300,
        "csrf": secrets.token_urlsafe(32), "seen": time.time()})


def person(request: Request) -> Person:
    """The signed-in person, or SignInNeeded (never signed in, idle too long, or the token has expired)."""
    s, now = request.session, time.time()
    idle = request.app.state.settings.session_idle_minutes * 60
    if "person" not in s or now - s.get("seen", 0) > idle or now >= s.get("expires_at", 0):
        s.clear()
        raise SignInNeeded
    s["seen"] = now
    return of(s["person"])


def of(p: dict) -> Person:
    """The person as the session keeps them."""
    return Person(p["subject"], p["name"], p["role"], tuple(p["centres"]), p.get("organisation"))


def api(request: Request) -> Api:
    person(request)
    return Api(request.app.state.http, request.app.state.bases, request.session["token"])


def public_csrf(request: Request) -> str:
    """The CSRF token of a public form (no sign-in, e.g. a learner's own evaluation form): kept in the visitor's
    session cookie like a signed-in person's, and signs nobody in."""
    return request.session.setdefault("csrf", secrets.token_urlsafe(32))


async def check_csrf(request: Request) -> dict:
    """The posted form, once its CSRF token matches the session's."""
    form = dict(await request.form())
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(str(form.pop("csrf", "")), expected):
        raise BadCsrfToken
    return form
