"""Signing in with the province's identity provider (OpenID Connect, authorization code + PKCE) and out."""
from __future__ import annotations

from urllib.parse import urlencode

from authlib.integrations.base_client import OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, sessions
from console.views import render

router = APIRouter(include_in_schema=False)


def _local(path: str | None) -> str:
    """Only a path of the console itself: never an open redirect to another site."""
    return path if path and path.startswith("/") and not path.startswith("//") else "/"


@router.get("/sign-in")
async def sign_in(request: Request, next: str | None = None):
    request.session["next"] = _local(next)
    settings = request.app.state.settings
    return await request.app.state.oauth.idp.authorize_redirect(request, f"{settings.public_url}/auth/callback")


@router.get("/auth/callback")
async def callback(request: Request):
    after = _local(request.session.get("next"))
    try:
        token = await request.app.state.oauth.idp.authorize_access_token(request)
    except OAuthError:
        return render(request, "error.html", status=400, message=i18n.gettext(
            "Signing in did not succeed. Please sign in again."), sign_in=True)
    sessions.start(request, token["userinfo"], token)
    return RedirectResponse(after, status_code=303)


@router.post("/sign-out")
async def sign_out(request: Request):
    await sessions.check_csrf(request)
    request.session.clear()
    metadata = await request.app.state.oauth.idp.load_server_metadata()
    settings = request.app.state.settings
    if end := metadata.get("end_session_endpoint"):  # also end the session at the identity provider
        query = urlencode({"client_id": settings.oidc_client_id,
                           "post_logout_redirect_uri": f"{settings.public_url}/signed-out"})
        return RedirectResponse(f"{end}?{query}", status_code=303)
    return RedirectResponse("/signed-out", status_code=303)


@router.get("/signed-out")
async def signed_out(request: Request):
    return render(request, "signed_out.html")
