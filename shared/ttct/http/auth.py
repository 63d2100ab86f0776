"""Who is calling, and what they may do: bearer JWTs verified by PyJWT, and the scope they carry.

Scope comes from the token only, never from the request. A caller outside a resource's tenant (another
centre, another organisation) gets 404 — the same answer as for a resource that does not exist — so ids of
other tenants cannot be probed; a caller whose role may never do a thing gets 403.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import jwt
import structlog
from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ttct.centres import Succession
from ttct.domain.errors import DomainError, NotFound
from ttct.operations.settings import ServiceSettings
from ttct.privacy import tenancy


class Role(StrEnum):
    province_admin = "province-admin"
    centre_staff = "centre-staff"
    lecturer = "lecturer"
    organisation = "organisation"
    integration = "integration"
    public = "public"


ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.province_admin: frozenset({"*"}),
    Role.centre_staff: frozenset({
        "classes:read", "classes:write", "sessions:read", "sessions:write", "lecturers:read", "lecturers:write",
        "programmes:read", "programmes:write", "enrolments:read", "enrolments:write", "organisations:read",
        "organisations:write", "attendance:read", "attendance:write", "scores:read", "scores:write",
        "results:read", "results:write", "certificates:read", "certificates:write", "figures:read",
        "audit:read"}),
    Role.lecturer: frozenset({"classes:read", "sessions:read", "lecturers:read", "programmes:read",
                              "enrolments:read", "attendance:read", "attendance:write", "scores:read",
                              "scores:write"}),
    Role.organisation: frozenset({"notifications:read", "notifications:write"}),
    Role.integration: frozenset(),  # exactly the scopes granted in its token
    Role.public: frozenset(),
}


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    province: str
    centres: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    lecturer_id: str | None = None
    """A lecturer's id in the province's register (claim `lecturer_id`): what they may write is their own teaching."""
    inherited: frozenset[str] = frozenset()
    """Centres among `centres` the caller reaches only as staff of their successor (`follow_successions`)."""
    merged_away: tuple[tuple[str, str, str], ...] = ()
    """(centre, successor's code, successor's name) for each centre of the token merged into another it does not
    name: the caller is refused there, naming the successor (`follow_successions`)."""

    def may(self, permission: str) -> bool:
        granted = ROLE_PERMISSIONS[self.role] | (self.scopes if self.role is Role.integration else frozenset())
        return "*" in granted or permission in granted

    def sees_centre(self, centre: str) -> bool:
        return self.role is Role.province_admin or centre in self.centres

    def successor_of(self, centre: str) -> tuple[str, str] | None:
        """The successor (code, name) of a centre of the token that was merged away, else None."""
        return next(((code, name) for c, code, name in self.merged_away if c == centre), None)

    def sees_organisation(self, organisation: str) -> bool:
        return self.role is Role.province_admin or organisation in self.organisations

    def rows(self) -> tenancy.Scope:
        """The rows row-level security lets this caller's statements reach: the province administrator's, all (a
        deployment's databases hold its province only); a sending organisation's, its own; the others', their
        centres'."""
        if self.role is Role.province_admin:
            return tenancy.ALL
        if self.role is Role.organisation:
            return tenancy.tenant(organisations=self.organisations)
        if self.role is Role.public:
            return tenancy.NONE
        return tenancy.tenant(centres=self.centres)


def follow_successions(caller: Principal, successions: Mapping[str, Succession]) -> Principal:
    """The caller as the centres' successions in force make them: staff of a successor also reach its
    predecessors (its merged centres and its sites, through chains of merges too); a centre of the token that was
    merged away (not made a site) into a centre the token does not name is no longer reached (`merged_away`: a
    403 naming the successor), since its staff now work for the successor and need a token that says so. A site
    carries on, so its own staff keep it. The province admin reaches every centre anyway."""
    if not successions or not caller.centres or caller.role in (Role.province_admin, Role.organisation, Role.public):
        return caller
    kept = {c for c in caller.centres
            if c not in successions or successions[c].kind == "site" or successions[c].successor_code in caller.centres}
    inherited = {code for code, s in successions.items() if s.successor_code in kept}
    gone = tuple(sorted((c, successions[c].successor_code, successions[c].successor_name)
                        for c in caller.centres - kept - inherited))
    return replace(caller, centres=frozenset(kept | inherited), inherited=frozenset(inherited - kept),
                   merged_away=gone)


def _set(claim: object) -> frozenset[str]:
    if claim is None:
        return frozenset()
    if isinstance(claim, str):
        return frozenset(claim.split())
    return frozenset(str(c) for c in claim)  # type: ignore[union-attr]


class TokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._algorithms = list(settings.auth_algorithms)
        self._jwks = jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True) if settings.auth_jwks_url else None
        self._key = Path(settings.auth_public_key_file).read_text() if settings.auth_public_key_file else None
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        # A client sends the same token on every call until it expires: verify its signature once.
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        found, expires = await self._verify(token)
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[token] = (found, expires)
        return found

    async def _verify(self, token: str) -> tuple[Principal, float]:
        s = self._settings
        try:
            key = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key if self._jwks else self._key
            claims = jwt.decode(token, key, algorithms=self._algorithms, audience=s.auth_audience,
                                issuer=s.auth_issuer, options={"require": ["exp", "iss", "aud", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", "Mã truy cập đã hết hạn") from None
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated(f"the token is not valid: {exc}", "Mã truy cập không hợp lệ") from None
        try:
            role = Role(claims.get("role"))
        except ValueError:
            raise Unauthenticated(f"unknown role {claims.get('role')!r}", "Vai trò không hợp lệ") from None
        if claims.get("province") != s.province_code:
            raise Unauthenticated("the token is for another province", "Mã truy cập thuộc tỉnh khác")
        return Principal(subject=str(claims["sub"]), role=role, province=claims["province"],
                         centres=_set(claims.get("centres", claims.get("centre"))),
                         organisations=_set(claims.get("organisations", claims.get("org"))),
                         scopes=_set(claims.get("scope")),
                         lecturer_id=str(claims["lecturer_id"]) if claims.get("lecturer_id") else None), \
            float(claims["exp"])


_bearer = HTTPBearer(auto_error=False, description="A JWT from the province's identity provider")


async def principal(request: Request,
                    credentials: HTTPAuthorizationCredentials | None = Security(_bearer)) -> Principal:
    if credentials is None:
        raise Unauthenticated("a bearer token is required (Authorization: Bearer <JWT>)",
                              "Cần mã truy cập (Authorization: Bearer <JWT>)")
    found = await request.app.state.verifier.verify(credentials.credentials)
    register = getattr(request.app.state, "centre_successions", None)  # a ttct.centres.Register
    if register is not None and found.centres:
        found = follow_successions(found, await register.in_force())
    request.state.principal = found
    tenancy.enter(found.rows())  # the rest of the request: the caller's rows only, whatever a route forgets
    return found


def require(permission: str, principal: Principal) -> None:
    if not principal.may(permission):
        raise Forbidden(f"the role {principal.role} may not {permission.replace(':', ' ')}",
                        f"Vai trò {principal.role} không có quyền {permission}")


def centre_scope(principal: Principal, centre: str, permission: str) -> None:
    """Allow `permission` on `centre`'s resources; another centre's look like they do not exist. A centre of the
    caller's token merged into another is refused naming its successor (403 centre-merged)."""
    successor = principal.successor_of(centre)
    if successor is not None and not principal.sees_centre(centre):
        code, name = successor
        raise Forbidden(f"centre {centre} was merged into {code} ({name}): its classes are reached with a token "
                        f"for {code}", f"Trung tâm {centre} đã được sáp nhập vào {name} ({code}): cần mã truy cập "
                        f"của trung tâm {code}", code="centre-merged", successor_code=code)
    if not principal.sees_centre(centre):
        raise NotFound("no such resource at this centre", "Không tìm thấy dữ liệu ở trung tâm này")
    require(permission, principal)


def organisation_scope(principal: Principal, organisation: str, permission: str) -> None:
    if not principal.sees_organisation(organisation):
        raise NotFound("no such organisation", "Không tìm thấy đơn vị")
    require(permission, principal)


def centre_access(permission: str):
    """A route dependency: the caller, allowed `permission` on the centre named in the path."""

    async def check(request: Request, caller: Principal = Depends(principal)) -> Principal:
        centre_scope(caller, request.path_params["centre"], permission)
        structlog.contextvars.bind_contextvars(centre=request.path_params["centre"], caller=caller.subject)
        return caller

    return Depends(check)


def organisation_access(permission: str):
    """A route dependency: the caller, allowed `permission` on the organisation named in the path."""

    async def check(request: Request, caller: Principal = Depends(principal)) -> Principal:
        organisation_scope(caller, request.path_params["org"], permission)
        return caller

    return Depends(check)


def province_admin_access(permission: str):
    """A route dependency for changes only the province may make (its map of organisations): the role of
    province admin, with `permission`."""

    async def check(caller: Principal = Depends(principal)) -> Principal:
        if caller.role is not Role.province_admin:
            raise Forbidden(f"only the province's admins may {permission.replace(':', ' ')}",
                            f"Chỉ quản trị cấp tỉnh mới có quyền {permission}")
        require(permission, caller)
        return caller

    return Depends(check)


_PROVINCE_WRITERS = (Role.province_admin, Role.centre_staff)


def province_access(permission: str):
    """A route dependency for the province's shared registers (lecturers, sending organisations), which have no
    centre in their path: reading needs `permission`; writing also needs the role of province admin or centre
    staff, since any centre of the province may add to them. The token's province is checked on every call."""

    async def check(caller: Principal = Depends(principal)) -> Principal:
        require(permission, caller)
        if permission.endswith(":write") and caller.role not in _PROVINCE_WRITERS:
            raise Forbidden(f"only province admins and centre staff may {permission.replace(':', ' ')}",
                            f"Chỉ quản trị cấp tỉnh và cán bộ trung tâm mới có quyền {permission}")
        return caller

    return Depends(check)
