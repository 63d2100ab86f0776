"""The test harness: a private NATS and PostgreSQL for the whole session, started from the project's own
packages (or the servers named by NATS_URL / DATABASE_URL), and a fresh database per test that needs one."""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import nats
import pytest
from ttct.operations.settings import nats_servers
from ttct_dev.stack import LocalStack, StackInfo, database_url, ensure_databases


@pytest.fixture(scope="session")
def stack() -> Iterator[StackInfo]:
    # Not under pytest's basetemp: a second pytest session resets that to mode 0700, which the unprivileged
    # PostgreSQL account of a root run could then no longer traverse.
    data = Path(tempfile.mkdtemp(prefix="ttct-test-stack-"))
    data.chmod(0o755)
    local = LocalStack(data, durable=False)
    try:
        yield local.start()
    finally:
        local.stop()
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def admin_url(stack: StackInfo) -> str:
    return stack.postgres_url


@pytest.fixture(scope="session")
def nats_url(stack: StackInfo) -> str:
    return stack.nats_url


@pytest.fixture
async def database(admin_url: str) -> str:
    """The URL of a new, empty database."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    await ensure_databases(admin_url, [name])
    return database_url(admin_url, name)


@pytest.fixture
async def pool(database: str) -> AsyncIterator[asyncpg.Pool]:
    from ttct.operations.schema import migrate

    pool = await asyncpg.create_pool(database, min_size=1, max_size=20)
    await migrate(pool)
    try:
        yield pool
    finally:
        try:  # a connection a failed test left acquired must not hang the session
            await asyncio.wait_for(pool.close(), 10)
        except TimeoutError:
            pool.terminate()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[nats.NATS]:
    conn = await nats.connect(servers=nats_servers(nats_url))
    try:
        yield conn
    finally:
        await asyncio.wait([asyncio.create_task(conn.close())], timeout=10)


@pytest.fixture
def province() -> str:
    """A province code of this test's own, so tests sharing the session's streams never see each other."""
    return f"p-{uuid.uuid4().hex[:10]}"


def pytest_report_header() -> str:
    given = [v for v in ("NATS_URL", "DATABASE_URL") if os.environ.get(v)]
    return f"servers: {'given by ' + ', '.join(given) if given else 'embedded (started by the harness)'}"
