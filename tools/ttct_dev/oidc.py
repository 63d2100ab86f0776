"""A local OpenID Connect provider for `make run` and the console's browser tests: a sign-in page with one demo
account per role, the authorization code flow with PKCE (S256, required), and tokens signed by LocalIssuer's key,
so the services accept the access tokens as they accept `make token`'s. In production the console is pointed at
the province's identity provider (e.g. Keycloak) by its settings alone.

    python -m ttct_dev.oidc --port 8009 --client ttct-console=http://127.0.0.1:8005/auth/callback
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import secrets
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives import serialization
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ttct_dev.tokens import ISSUER, LocalIssuer

DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class Account:
    username: str
    name: str
    role: str
    centre: str | None = None
    org: str | None = None
    lecturer_id: str | None = None
    """A lecturer's id in the province's register (claim `lecturer_id`): what they may record is their own teaching."""


DEMO_ACCOUNTS = (
    Account("canbo.hauloc", "Lê Thị Hoa", "centre-staff", centre="hau-loc"),
    Account("giangvien.hauloc", "Nguyễn Văn Minh", "lecturer", centre="hau-loc"),
    Account("donvi.xahoaloc", "Trần Văn Bình", "organisation", org="xa-hoa-loc"),
    Account("quantri.tinh", "Phạm Thị Lan", "province-admin"),
)
ROLE_NAMES = {"centre-staff": "Cán bộ trung tâm", "lecturer": "Giảng viên", "organisation": "Đơn vị cử đi học",
              "province-admin": "Quản trị cấp tỉnh"}
CODE_TTL, TOKEN_TTL = 60, 8 * 3600


def with_lecturer_ids(accounts: tuple[Account, ...], ids: dict[str, str]) -> tuple[Account, ...]:
    """The accounts with their lecturer ids: a province's identity provider holds the register's id as an attribute
    of the person; here it is learnt from the register when the provider starts (ttct_dev.console)."""
    return tuple(replace(a, lecturer_id=ids[a.username]) if a.username in ids else a for a in accounts)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def provider_app(issuer: LocalIssuer, base_url: str, clients: dict[str, str], *, province: str = "thanh-hoa",
                 accounts: tuple[Account, ...] = DEMO_ACCOUNTS, password: str = DEMO_PASSWORD) -> Starlette:
    """`clients`: client id -> its one redirect URI (public clients: PKCE instead of a secret)."""
    codes: dict[str, dict] = {}
    by_name = {a.username: a for a in accounts}
    public_key = serialization.load_pem_public_key(issuer.public_key_file.read_bytes())

    async def metadata(_: Request) -> JSONResponse:
        return JSONResponse({
            "issuer": ISSUER, "authorization_endpoint": f"{base_url}/authorize", "token_endpoint": f"{base_url}/token",
            "jwks_uri": f"{base_url}/jwks", "end_session_endpoint": f"{base_url}/logout",
            "response_types_supported": ["code"], "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "profile"],
            "token_endpoint_auth_methods_supported": ["none"]})

    async def jwks(_: Request) -> JSONResponse:
        key = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
        return JSONResponse({"keys": [{**key, "kid": issuer.kid, "use": "sig", "alg": "RS256"}]})

    def refuse(message: str) -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><html lang=vi><title>Lỗi</title><p>{html.escape(message)}</p>", 400)

    def page(params: dict[str, str], error: str = "", username: str = "") -> HTMLResponse:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items())
        rows = "".join(f"<tr><td><code>{a.username}</code></td><td>{html.escape(a.name)}</td>"
                       f"<td>{ROLE_NAMES[a.role]}</td><td>{a.centre or a.org or 'thanh-hoa'}</td></tr>"
                       for a in accounts)
        alert = f'<p role="alert" class="err">{html.escape(error)}</p>' if error else ""
        return HTMLResponse(f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Đăng nhập – Cổng định danh (thử nghiệm)</title><style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto}}
label{{display:block;font-weight:600;margin-top:1rem}}input{{font:inherit;padding:.3rem}}.err{{color:#b10e1e;font-weight:700}}
button{{margin-top:1rem;font:inherit;padding:.4rem 1rem}}td,th{{text-align:left;padding:.2rem .6rem .2rem 0}}</style></head>
<body><main><h1>Đăng nhập</h1><p>Cổng định danh thử nghiệm của môi trường phát triển.</p>{alert}
<form method="post" action="/authorize">{hidden}
<label for="username">Tên đăng nhập</label><input id="username" name="username" autocomplete="username" value="{html.escape(username)}">
<label for="password">Mật khẩu</label><input id="password" name="password" type="password" autocomplete="current-password">
<div><button type="submit">Đăng nhập</button></div></form>
<h2>Tài khoản thử nghiệm</h2><p>Mật khẩu của mọi tài khoản: <code>{html.escape(password)}</code></p>
<table><thead><tr><th>Tên đăng nhập</th><th>Họ tên</th><th>Vai trò</th><th>Phạm vi</th></tr></thead>
<tbody>{rows}</tbody></table></main></body></html>""")

    def checked(params: dict[str, str]) -> str | None:
        """What is wrong with an authorization request, or None."""
        if clients.get(params.get("client_id", "")) != params.get("redirect_uri"):
            return "Ứng dụng hoặc địa chỉ chuyển hướng không được đăng ký"
        if params.get("response_type") != "code":
            return "Chỉ hỗ trợ response_type=code"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "Cần PKCE (code_challenge_method=S256)"
        return None

    keys = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
            "code_challenge_method")

    async def authorize(request: Request) -> Response:
        source = request.query_params if request.method == "GET" else await request.form()
        params = {k: str(source[k]) for k in keys if k in source}
        if problem := checked(params):
            return refuse(problem)
        if request.method == "GET":
            return page(params)
        account = by_name.get(str(source.get("username", "")).strip())
        if account is None or not secrets.compare_digest(str(source.get("password", "")), password):
            return page(params, "Tên đăng nhập hoặc mật khẩu không đúng", str(source.get("username", "")))
        code = secrets.token_urlsafe(32)
        codes[code] = {**params, "account": account, "expires": time.time() + CODE_TTL}
        query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(query)}", status_code=303)

    def token_error(error: str, description: str) -> JSONResponse:
        return JSONResponse({"error": error, "error_description": description}, 400,
                            headers={"Cache-Control": "no-store"})

    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        if form.get("grant_type") != "authorization_code":
            return token_error("unsupported_grant_type", "only authorization_code")
        grant = codes.pop(str(form.get("code", "")), None)  # one use only
        if grant is None or grant["expires"] < time.time():
            return token_error("invalid_grant", "unknown, used or expired code")
        if form.get("client_id") != grant["client_id"] or form.get("redirect_uri") != grant["redirect_uri"]:
            return token_error("invalid_grant", "client_id or redirect_uri differs from the authorization request")
        if _s256(str(form.get("code_verifier", ""))) != grant["code_challenge"]:
            return token_error("invalid_grant", "the PKCE code_verifier does not match")
        a: Account = grant["account"]
        who = {"province": province, "centre": a.centre, "org": a.org, "subject": a.username, "name": a.name,
               "ttl": TOKEN_TTL, **({"lecturer_id": a.lecturer_id} if a.lecturer_id else {})}
        id_claims = {"aud": grant["client_id"], **({"nonce": grant["nonce"]} if "nonce" in grant else {})}
        return JSONResponse({"access_token": issuer.mint(a.role, **who), "token_type": "Bearer",
                             "expires_in": TOKEN_TTL, "id_token": issuer.mint(a.role, **who, **id_claims),
                             "scope": grant.get("scope", "openid")}, headers={"Cache-Control": "no-store"})

    async def logout(request: Request) -> Response:
        target = request.query_params.get("post_logout_redirect_uri", "")
        registered = clients.get(request.query_params.get("client_id", ""), "")
        if target and registered and target.split("/", 3)[:3] == registered.split("/", 3)[:3]:
            return RedirectResponse(target, status_code=303)
        return HTMLResponse("<!doctype html><html lang=vi><title>Đã đăng xuất</title><p>Đã đăng xuất.</p>")

    return Starlette(routes=[
        Route("/.well-known/openid-configuration", metadata), Route("/jwks", jwks),
        Route("/authorize", authorize, methods=["GET", "POST"]), Route("/token", token, methods=["POST"]),
        Route("/logout", logout)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8009)
    parser.add_argument("--data-dir", type=Path, default=Path(".data"))
    parser.add_argument("--province", default="thanh-hoa")
    parser.add_argument("--client", action="append", default=[], help="client_id=redirect_uri (repeatable)")
    parser.add_argument("--lecturer-id", action="append", default=[],
                        help="username=lecturer_id: a demo lecturer's id in the province's register (repeatable)")
    a = parser.parse_args()
    clients = dict(c.split("=", 1) for c in a.client)
    app = provider_app(LocalIssuer(a.data_dir), f"http://127.0.0.1:{a.port}", clients, province=a.province,
                       accounts=with_lecturer_ids(DEMO_ACCOUNTS, dict(x.split("=", 1) for x in a.lecturer_id)))
    uvicorn.run(app, host="127.0.0.1", port=a.port, log_level="warning")


if __name__ == "__main__":
    main()
