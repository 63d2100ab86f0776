"""Row-level security: the second wall between centres (issue 7), behind the routes' own checks (ttct.http.auth).

Every statement of a service runs as the application role (`DATABASE_APP_ROLE`), which neither owns the tables
nor has BYPASSRLS, and every tenant table is `FORCE ROW LEVEL SECURITY` with a policy that admits only the rows of
the scope the connection was given. The scope lives in a context variable and is written into the connection's
settings (`ttct.scope`, `ttct.centres`, `ttct.organisations`, `ttct.lookup`) each time the pool hands it out, so
a route that forgets its `WHERE centre = …` still cannot read or write another centre's rows.

- `ALL`: workers (consumers, the outbox relay, dispatchers), operator tools and migrations, which work across
  centres by design. It is the default outside HTTP requests.
- an HTTP request starts at `NONE` (`RequestScope`, the outermost middleware); once its bearer token is verified
  (`ttct.http.auth.principal`) it holds the caller's centres or organisations, or `ALL` for the province
  administrator (a deployment's databases hold one province only).
- `lookup(key)`: a public route reading the one row its caller named (certificate verification).
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Scope:
    kind: str  # 'all' | 'tenant' | 'lookup' | 'none'
    centres: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()
    lookup: str = ""

    def settings(self) -> tuple[str, str, str, str]:
        for code in (*self.centres, *self.organisations):
            if "," in code:
                raise ValueError(f"a centre or organisation code holds a comma: {code!r}")
        return self.kind, ",".join(sorted(self.centres)), ",".join(sorted(self.organisations)), self.lookup


ALL = Scope("all")
NONE = Scope("none")


def tenant(centres: frozenset[str] = frozenset(), organisations: frozenset[str] = frozenset()) -> Scope:
    return Scope("tenant", frozenset(centres), frozenset(organisations))


_current: ContextVar[Scope] = ContextVar("ttct_tenant_scope", default=ALL)


def current() -> Scope:
    return _current.get()


def enter(scope: Scope) -> None:
    """Set the scope for the rest of this task (an HTTP request's, once its caller is known)."""
    _current.set(scope)


@contextlib.contextmanager
def scoped(scope: Scope) -> Iterator[None]:
    token = _current.set(scope)
    try:
        yield
    finally:
        _current.reset(token)


def province_wide() -> contextlib.AbstractContextManager[None]:
    """For the few reads that span every centre of the province by design (a lecturer's timetable across centres,
    the writer of the access log): every row, explicitly, so such a place can be found by searching for it."""
    return scoped(ALL)


def lookup(key: str) -> contextlib.AbstractContextManager[None]:
    """For a public route: only the rows a table's lookup policy matches to `key`, read only."""
    return scoped(Scope("lookup", lookup=key))


async def widen_transaction(conn: asyncpg.Connection) -> None:
    """Every row for the rest of `conn`'s open transaction only (set_config is_local): for a change that by design
    reaches every centre's rows, such as erasing a learner. Reverted at commit or rollback."""
    if not conn.is_in_transaction():
        raise RuntimeError("widen_transaction needs an open transaction")
    await conn.execute("SELECT set_config('ttct.scope', 'all', true)")


async def every_row(conn: asyncpg.Connection) -> None:
    """For a connection of an operator's tool or a migration, as the login role: it owns the tables but is subject
    to their FORCE ROW LEVEL SECURITY (unless it is a superuser), so it must ask for every row."""
    await conn.execute("SELECT set_config('ttct.scope', 'all', false)")


class RequestScope:
    """Pure ASGI middleware, the outermost of the app's: each request starts with no rows at all, whatever the
    context it was started from (uvicorn's request tasks copy the server's context, where the scope is ALL)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with scoped(NONE):
            await self.app(scope, receive, send)


# --- the pool: every connection as the application role, the scope written on each checkout ---------------------

_APPLY = ("SELECT set_config('ttct.scope', $1, false), set_config('ttct.centres', $2, false),"
          " set_config('ttct.organisations', $3, false), set_config('ttct.lookup', $4, false)")


async def keep_session(_conn: asyncpg.Connection) -> None:
    """A pool's `reset`: none. asyncpg's default (RESET ALL, unlocking, UNLISTEN) is a round trip on every release,
    and would undo the session state a pool keeps on purpose (the role set by `as_role`)."""
    return None


class ScopedConnection(asyncpg.Connection):
    """A pooled connection that remembers the scope last written into its session, so a checkout with the same
    scope (a worker's, or the same caller's again) costs no round trip."""

    __slots__ = ("_ttct_scope",)

    def applied_scope(self) -> Scope | None:
        return getattr(self, "_ttct_scope", None)

    def scope_applied(self, scope: Scope | None) -> None:
        self._ttct_scope = scope


def as_role(role: str):
    """The pool's `init`: every new connection runs as `role` for its whole life. The pool's `reset` must keep the
    session (`keep_session`): asyncpg's default reset runs RESET ALL, which would undo SET ROLE."""
    statement = f"SET ROLE {quote_identifier(role)}"

    async def init(conn: asyncpg.Connection) -> None:
        await conn.execute(statement)
        conn.scope_applied(None)

    return init


async def apply_scope(conn) -> None:
    """The pool's `setup`, run on every acquire: write the task's scope into the session before any statement of
    the borrower runs (one round trip, only when it differs from what the connection holds). Session-level, not
    SET LOCAL, so that it also covers statements outside a transaction; every checkout overwrites it."""
    scope = _current.get()
    if conn.applied_scope() == scope:
        return
    conn.scope_applied(None)  # should the statement fail half-way, the next checkout writes it again
    await conn.execute(_APPLY, *scope.settings())
    conn.scope_applied(scope)


# --- the migration: the role, the grants, the policies ------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def quote_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain PostgreSQL identifier: {name!r}")
    return f'"{name}"'


SCHEMA = [
    # inlined by the planner (STABLE SQL functions of one SELECT): a policy costs a comparison per row
    """
    CREATE OR REPLACE FUNCTION ttct_sees_all() RETURNS boolean LANGUAGE sql STABLE AS
    $$ SELECT coalesce(current_setting('ttct.scope', true), '') = 'all' $$
    """,
    """
    CREATE OR REPLACE FUNCTION ttct_centres() RETURNS text[] LANGUAGE sql STABLE AS
    $$ SELECT string_to_array(nullif(current_setting('ttct.centres', true), ''), ',') $$
    """,
    """
    CREATE OR REPLACE FUNCTION ttct_organisations() RETURNS text[] LANGUAGE sql STABLE AS
    $$ SELECT string_to_array(nullif(current_setting('ttct.organisations', true), ''), ',') $$
    """,
    """
    CREATE OR REPLACE FUNCTION ttct_lookup() RETURNS text LANGUAGE sql STABLE AS
    $$ SELECT CASE WHEN current_setting('ttct.scope', true) = 'lookup'
                   THEN nullif(current_setting('ttct.lookup', true), '') END $$
    """,
    # Idempotent and quiet: a table already protected by the same policy is not touched (ALTER TABLE and CREATE
    # POLICY take an exclusive lock, which would queue the other replicas' reads at every start).
    """
    CREATE OR REPLACE FUNCTION ttct_protect(tbl regclass, tenant text, lookup text) RETURNS void
    LANGUAGE plpgsql AS $$
    DECLARE
        wanted text := md5(tenant || '|' || coalesce(lookup, ''));
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = tbl AND relrowsecurity AND relforcerowsecurity) THEN
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', tbl);
        END IF;
        IF coalesce((SELECT obj_description(p.oid, 'pg_policy') FROM pg_policy p
                     WHERE p.polrelid = tbl AND p.polname = 'ttct_tenant'), '') <> wanted THEN
            EXECUTE format('DROP POLICY IF EXISTS ttct_tenant ON %s', tbl);
            EXECUTE format('DROP POLICY IF EXISTS ttct_lookup ON %s', tbl);
            EXECUTE format('CREATE POLICY ttct_tenant ON %s USING (ttct_sees_all() OR %s)'
                           ' WITH CHECK (ttct_sees_all() OR %s)', tbl, tenant, tenant);
            IF lookup IS NOT NULL THEN
                EXECUTE format('CREATE POLICY ttct_lookup ON %s FOR SELECT USING (%s)', tbl, lookup);
            END IF;
            EXECUTE format('COMMENT ON POLICY ttct_tenant ON %s IS %L', tbl, wanted);
        END IF;
    END $$
    """,
]


def by_centre(column: str = "centre") -> str:
    return f"{column} = ANY(ttct_centres())"


def by_organisation(column: str = "organisation_code") -> str:
    return f"{column} = ANY(ttct_organisations())"


def through(columns: str | tuple[str, ...], parent: str) -> str:
    """Rows whose `columns` name a row of `parent` (same column names) the scope may see, the parent's own policy
    deciding: for a table that holds no centre or organisation of its own. A correlated EXISTS, so a statement that
    reads a few rows probes the parent's key for those rows instead of reading the whole parent table."""
    names = (columns,) if isinstance(columns, str) else columns
    match = " AND ".join(f"{parent}.{c} = {_TABLE}.{c}" for c in names)
    return f"EXISTS (SELECT 1 FROM {parent} WHERE {match})"


_TABLE = "$table"  # replaced by protect() with the table the policy is on


def protect(table: str, *tenant: str, lookup: str | None = None) -> str:
    """The migration statement giving `table` row-level security: a scope sees and writes the rows any of the
    `tenant` conditions admits (ALL: every row); with `lookup`, a public route may also read the rows it admits."""
    def literal(sql: str) -> str:
        if "$ttct$" in sql:
            raise ValueError("a policy may not contain $ttct$")
        return f"$ttct${sql}$ttct$"

    condition = " OR ".join(f"({t})" for t in tenant).replace(_TABLE, table)
    return (f"SELECT ttct_protect({literal(table)}::regclass, {literal(condition)},"
            f" {literal(lookup) if lookup else 'NULL'})")


def role_and_grants(role: str) -> list[str]:
    """Make sure the application role exists (created here when the login role may, as locally and in the tests;
    the Helm chart creates it in production) and may be the login role's SET ROLE, and grant it the tables."""
    name = quote_identifier(role)
    literal = f"'{role}'"
    return [
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {literal}) THEN
                BEGIN
                    CREATE ROLE {name} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                EXCEPTION
                    WHEN duplicate_object OR unique_violation THEN NULL;  -- another database's migration made it
                    WHEN insufficient_privilege THEN
                        RAISE EXCEPTION 'the role % (DATABASE_APP_ROLE) does not exist and % may not create it',
                            {literal}, current_user;
                END;
            END IF;
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {literal} AND (rolsuper OR rolbypassrls)) THEN
                RAISE EXCEPTION 'the role % (DATABASE_APP_ROLE) must be neither superuser nor BYPASSRLS', {literal};
            END IF;
            IF current_user = {literal} THEN
                RAISE EXCEPTION 'DATABASE_URL must log in as the tables'' owner, not as DATABASE_APP_ROLE %',
                    {literal};
            END IF;
            IF NOT pg_has_role(current_user, {literal}, 'SET') THEN
                EXECUTE format('GRANT %I TO %I', {literal}, current_user);
            END IF;
        END $$
        """,
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {name}",
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = 'public'::regnamespace
                       AND relowner = {literal}::regrole) THEN
                RAISE EXCEPTION 'the role % (DATABASE_APP_ROLE) owns tables: it must not', {literal};
            END IF;
        END $$
        """,
    ]
