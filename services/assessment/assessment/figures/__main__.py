"""`python -m assessment.figures rebuild`, with the service's environment (DATABASE_URL, NATS_URL, PROVINCE_CODE,
…): empty the figure tables and compute them again from the streams, while the service runs or not."""
from __future__ import annotations

import argparse
import asyncio

import asyncpg
import nats
from ttct.eventsourcing.nats_permissions import inbox_prefix
from ttct.operations.schema import migrate
from ttct.operations.settings import load_settings
from ttct.privacy import tenancy

from assessment.figures import SCHEMA, rebuild
from assessment.settings import AssessmentSettings


async def _rebuild(settings: AssessmentSettings) -> dict[str, int]:
    # as the login role, the tables' owner, which must ask for every centre's rows (row-level security)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2, init=tenancy.every_row)
    # as the service's own NATS user, whose permissions allow replies only under its inbox prefix
    nc = await nats.connect(servers=settings.nats_servers, name=f"{settings.service_name}-figures-rebuild",
                            inbox_prefix=inbox_prefix(settings.service_name).encode())
    try:
        await migrate(pool, SCHEMA)
        return await rebuild(pool, nc.jetstream(), settings.province_code)
    finally:
        await nc.close()
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m assessment.figures", description=__doc__)
    parser.add_argument("command", choices=["rebuild"])
    parser.parse_args()
    done = asyncio.run(_rebuild(load_settings(AssessmentSettings)))
    print("figures rebuilt from " + ", ".join(f"{n} {context} events" for context, n in done.items()))


if __name__ == "__main__":
    main()
