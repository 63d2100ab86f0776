"""Positions in the order rows became visible, for the logs an organisation pages through with a cursor.

A bigserial is taken when a row is inserted, not when its transaction commits: with two deliveries attempted at
once, attempt 101 may commit after attempt 102 has been listed, and a reader resuming after 102 would never see
it. So each log gets a second position, given to committed rows only, by one sequencer at a time (its advisory
lock lasts to its commit): positions become visible in increasing order, and a cursor never passes a row that
shows up later. Readers sequence what has committed just before they read.
"""
from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class CommittedOrder:
    """One log: `table`'s rows, keyed by `key`, in `insert_order` (a bigserial), get `position` from `sequence`."""

    table: str
    key: str
    insert_order: str
    position: str
    sequence: str

    @property
    def schema(self) -> list[str]:
        return [
            f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS {self.position} bigint",
            f"CREATE SEQUENCE IF NOT EXISTS {self.sequence}",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {self.table}_{self.position} ON {self.table} ({self.position})",
            f"CREATE INDEX IF NOT EXISTS {self.table}_unsequenced ON {self.table} ({self.insert_order})"
            f" WHERE {self.position} IS NULL",
        ]

    async def sequence_committed(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"ttct-committed-order:{self.table}")
            await conn.execute(
                f"UPDATE {self.table} t SET {self.position} = s.p"
                f" FROM (SELECT {self.key}, nextval('{self.sequence}') AS p FROM (SELECT {self.key} FROM {self.table}"
                f" WHERE {self.position} IS NULL ORDER BY {self.insert_order}) AS committed) AS s"
                f" WHERE t.{self.key} = s.{self.key}")

    async def position_after(self, conn: asyncpg.Pool | asyncpg.Connection, insert_order: int) -> int:
        """Where to resume after a row named by its insert order (a deprecated cursor): after that row in the
        committed order; if it is not there (no longer visible), before the first row inserted after it. Nothing
        committed after the row was listed is skipped (a row may repeat)."""
        return await conn.fetchval(
            f"SELECT coalesce((SELECT {self.position} FROM {self.table} WHERE {self.insert_order} = $1),"
            f" (SELECT min({self.position}) - 1 FROM {self.table} WHERE {self.insert_order} > $1),"
            f" (SELECT max({self.position}) FROM {self.table}), 0)", insert_order)


WEBHOOK_ATTEMPTS = CommittedOrder("delivery_attempts", "attempt_id", "attempt_id", "log_position",
                                  "delivery_attempts_log_seq")
EMAIL_ATTEMPTS = CommittedOrder("email_attempts", "attempt_id", "attempt_id", "log_position",
                                "email_attempts_log_seq")
SCHEMA = [*WEBHOOK_ATTEMPTS.schema, *EMAIL_ATTEMPTS.schema]
