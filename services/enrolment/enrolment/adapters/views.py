"""Enrolment's tables: the classes it has heard of, the learner registry, and the roster views (seats, waiting
list, quotas), written by `project` in the transaction that appends the roster's events."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from uuid import UUID

import asyncpg
from ttct.contracts import ClassOpened, Envelope, LearnerEnrolled, read_event
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.contracts.learner_withdrawn import LearnerWithdrawn
from ttct.contracts.organisation_quota_set import OrganisationQuotaSet
from ttct.contracts.types import DispatchDecision
from ttct.eventsourcing.eventstore import Statements
from ttct.privacy.personal import ERASED, PersonalData

from enrolment.domain.roster import ClassFacts

SCHEMA = [
    """
    CREATE TABLE IF NOT EXISTS classes (
        class_id   uuid PRIMARY KEY,
        centre     text NOT NULL,
        title      text NOT NULL,
        capacity   integer NOT NULL,
        starts_on  date NOT NULL,
        ends_on    date NOT NULL
    )
    """,
    "ALTER TABLE classes ADD COLUMN IF NOT EXISTS cancelled boolean NOT NULL DEFAULT false",
    "ALTER TABLE classes ADD COLUMN IF NOT EXISTS when_full text NOT NULL DEFAULT 'waiting-list'",
    """
    CREATE TABLE IF NOT EXISTS learners (
        learner_id   uuid PRIMARY KEY,
        identity_key text NOT NULL UNIQUE
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS learner_aliases (
        alias_key  text PRIMARY KEY,
        learner_id uuid NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS learner_aliases_by_learner ON learner_aliases (learner_id)",
    """
    CREATE TABLE IF NOT EXISTS enrolments (
        class_id          uuid NOT NULL,
        learner_id        uuid NOT NULL,
        centre            text NOT NULL,
        seat_number       integer NOT NULL,
        full_name         text NOT NULL,
        date_of_birth     date NOT NULL,
        organisation_code text NOT NULL,
        organisation_name text NOT NULL,
        enrolled_at       timestamptz NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
    "ALTER TABLE enrolments ADD COLUMN IF NOT EXISTS from_waiting_list boolean NOT NULL DEFAULT false",
    """
    CREATE TABLE IF NOT EXISTS waiting_list (
        class_id          uuid NOT NULL,
        learner_id        uuid NOT NULL,
        centre            text NOT NULL,
        ticket            integer NOT NULL,
        full_name         text NOT NULL,
        date_of_birth     date NOT NULL,
        organisation_code text NOT NULL,
        organisation_name text NOT NULL,
        waitlisted_at     timestamptz NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS quotas (
        class_id          uuid NOT NULL,
        organisation_code text NOT NULL,
        centre            text NOT NULL,
        quota             integer NOT NULL,
        PRIMARY KEY (class_id, organisation_code)
    )
    """,
    # Issue 7: an erased learner's rows keep their seat but lose the birth date (and the name becomes ERASED).
    "ALTER TABLE enrolments ALTER COLUMN date_of_birth DROP NOT NULL",
    "ALTER TABLE waiting_list ALTER COLUMN date_of_birth DROP NOT NULL",
    # The programme's setting, from ClassOpened v2; the dispatch decision an enrolment cited (LearnerEnrolled v3).
    "ALTER TABLE classes ADD COLUMN IF NOT EXISTS requires_dispatch_decision boolean NOT NULL DEFAULT false",
    "ALTER TABLE enrolments ADD COLUMN IF NOT EXISTS dispatch_decision jsonb",
    "ALTER TABLE waiting_list ADD COLUMN IF NOT EXISTS dispatch_decision jsonb",
    # A learner's rows across classes (their page; the name an enrolment without one copies): without these each
    # lookup read the whole table, and a province's year of enrolments slowed as the table grew.
    "CREATE INDEX IF NOT EXISTS enrolments_by_learner ON enrolments (learner_id)",
    "CREATE INDEX IF NOT EXISTS waiting_list_by_learner ON waiting_list (learner_id)",
    *(f"CREATE INDEX IF NOT EXISTS {table}_by_decision ON {table} (organisation_code,"
      f" (dispatch_decision ->> 'number')) WHERE dispatch_decision IS NOT NULL" for table in ("enrolments",
                                                                                           "waiting_list")),
]


async def on_class_opened(conn: asyncpg.Connection, envelope: Envelope, event: ClassOpened) -> None:
    await conn.execute(
        "INSERT INTO classes (class_id, centre, title, capacity, starts_on, ends_on, when_full,"
        " requires_dispatch_decision)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (class_id) DO NOTHING",
        event.class_id, envelope.centre, event.title, event.capacity, event.starts_on, event.ends_on, event.when_full,
        event.requires_dispatch_decision,
    )


async def on_class_cancelled(conn: asyncpg.Connection, _envelope: Envelope, event: ClassCancelled) -> None:
    # ClassCancelled follows ClassOpened on the same scheduling stream, so the row is there if it ever will be;
    # a class cancelled while only planned was never open here and stays unknown.
    await conn.execute("UPDATE classes SET cancelled = true WHERE class_id = $1", event.class_id)


CLASS_FACTS = ("SELECT class_id, title, capacity, cancelled, when_full, requires_dispatch_decision FROM classes"
               " WHERE centre = {centre} AND class_id = {class_id}")


async def class_facts(pool: asyncpg.Pool, centre: str, class_id: UUID) -> ClassFacts | None:
    row = await pool.fetchrow(CLASS_FACTS.format(centre="$1", class_id="$2"), centre, class_id)
    return ClassFacts(**row) if row else None


async def class_details(pool: asyncpg.Pool, centre: str, class_id: UUID) -> dict | None:
    """The class as its papers name it: title and dates."""
    row = await pool.fetchrow("SELECT class_id, title, capacity, starts_on, ends_on, cancelled FROM classes"
                              " WHERE centre = $1 AND class_id = $2", centre, class_id)
    return dict(row) if row else None


async def learner_id_for(pool: asyncpg.Pool, key: str, new_id: UUID) -> UUID:
    """The registry's id for this person, registering them on first sight (race-safe)."""
    return (await learner_ids_for(pool, [key], [new_id]))[key]


async def learner_ids_for(pool: asyncpg.Pool, keys: Sequence[str], new_ids: Sequence[UUID]) -> dict[str, UUID]:
    """Ids for many people, registering those seen for the first time (race-safe): one statement on every
    enrolment, a second only when a racing writer registered someone after this statement's snapshot (ON CONFLICT
    skipped the row, the snapshot cannot see it)."""
    async with pool.acquire() as conn:
        # A key already mapped as another learner's external identifier (e.g. the party card of someone registered
        # by national ID) is that learner: no new registration. Rows ranked as known_learner_ids ranks them.
        rows = await conn.fetch(
            "WITH made AS (INSERT INTO learners (learner_id, identity_key) SELECT n.id, n.key"
            " FROM unnest($1::uuid[], $2::text[]) AS n(id, key)"
            " WHERE NOT EXISTS (SELECT 1 FROM learner_aliases a WHERE a.alias_key = n.key)"
            " ON CONFLICT (identity_key) DO NOTHING RETURNING identity_key, learner_id)"
            " SELECT alias_key AS key, learner_id, 1 AS rank FROM learner_aliases WHERE alias_key = ANY($2::text[])"
            " UNION ALL SELECT identity_key, learner_id, 2 FROM learners WHERE identity_key = ANY($2::text[])"
            " UNION ALL SELECT identity_key, learner_id, 2 FROM made ORDER BY rank", list(new_ids), list(keys))
        found = {r["key"]: r["learner_id"] for r in rows}
        if len(found) < len(set(keys)):
            return await known_learner_ids(conn, keys)
        return found


async def register_learner(pool: asyncpg.Pool, key: str, new_id: UUID, aliases: Sequence[str]) -> UUID:
    """`learner_id_for` and `remember_aliases` for one person in one statement (the single enrolment's): their
    id, registering them on first sight, and their external identifiers mapped to it."""
    async with pool.acquire() as conn:
        found = await conn.fetchval(
            "WITH made AS (INSERT INTO learners (learner_id, identity_key) SELECT $1, $2"
            " WHERE NOT EXISTS (SELECT 1 FROM learner_aliases a WHERE a.alias_key = $2)"
            " ON CONFLICT (identity_key) DO NOTHING RETURNING learner_id),"
            " found AS (SELECT learner_id, 1 AS rank FROM learner_aliases WHERE alias_key = $2"
            " UNION ALL SELECT learner_id, 2 FROM learners WHERE identity_key = $2"
            " UNION ALL SELECT learner_id, 2 FROM made ORDER BY rank LIMIT 1),"
            " aliased AS (INSERT INTO learner_aliases (alias_key, learner_id)"
            " SELECT k, found.learner_id FROM unnest($3::text[]) AS k, found ON CONFLICT (alias_key) DO NOTHING)"
            " SELECT learner_id FROM found", new_id, key, list(aliases))
        if found is None:  # a racing writer registered them after this statement's snapshot (see learner_ids_for)
            found = (await known_learner_ids(conn, [key]))[key]
            await remember_aliases(conn, [(alias, found) for alias in aliases])
        return found


async def known_learner_ids(db: asyncpg.Pool | asyncpg.Connection, keys: Sequence[str]) -> dict[str, UUID]:
    """Ids of the people already in the registry (by the key they were registered by, else as an alias);
    registers nobody (for a preflight)."""
    rows = await db.fetch("SELECT alias_key AS key, learner_id, 1 AS rank FROM learner_aliases"
                          " WHERE alias_key = ANY($1::text[]) UNION ALL"
                          " SELECT identity_key, learner_id, 2 FROM learners WHERE identity_key = ANY($1::text[])"
                          " ORDER BY rank", list(keys))
    return {r["key"]: r["learner_id"] for r in rows}


async def remember_aliases(db: asyncpg.Pool | asyncpg.Connection, pairs: Sequence[tuple[str, UUID]]) -> None:
    """Map hashed external identifiers to learners; the first mapping of an identifier stays (mapped once)."""
    if pairs:
        await db.execute("INSERT INTO learner_aliases (alias_key, learner_id)"
                         " SELECT * FROM unnest($1::text[], $2::uuid[]) ON CONFLICT (alias_key) DO NOTHING",
                         [k for k, _ in pairs], [i for _, i in pairs])


async def learner_by_key(db: asyncpg.Pool | asyncpg.Connection, key: str) -> UUID | None:
    """The learner an external identifier's hashed key names (an alias, or the key they were registered by)."""
    return await db.fetchval("SELECT learner_id FROM learner_aliases WHERE alias_key = $1 UNION ALL"
                             " SELECT learner_id FROM learners WHERE identity_key = $1 LIMIT 1", key)


async def learner_enrolments(db: asyncpg.Pool | asyncpg.Connection, centre: str, learner_id: UUID) -> list[dict]:
    """Where the learner holds a seat or waits in the centre's classes, by the classes' start."""
    rows = await db.fetch(
        """
        SELECT e.class_id, c.title AS class_title, c.starts_on, c.ends_on, 'enrolled' AS status, e.seat_number,
               NULL::integer AS position, e.organisation_code, e.organisation_name, e.enrolled_at AS since
        FROM enrolments e JOIN classes c USING (class_id) WHERE e.centre = $1 AND e.learner_id = $2
        UNION ALL
        SELECT w.class_id, c.title, c.starts_on, c.ends_on, 'waitlisted', NULL,
               (SELECT count(*) FROM waiting_list x WHERE x.class_id = w.class_id AND x.ticket <= w.ticket)::integer,
               w.organisation_code, w.organisation_name, w.waitlisted_at
        FROM waiting_list w JOIN classes c USING (class_id) WHERE w.centre = $1 AND w.learner_id = $2
        ORDER BY starts_on, class_id
        """, centre, learner_id)
    return [dict(r) for r in rows]


# The events carry the learner's name and birth date sealed. The command that enrols someone gives them in clear
# (`names`); a promotion, a transfer's arrival or a withdrawal concerns a learner already in a view of the
# centre, whose row is copied; a learner found nowhere (erased, or only in the sealed events) shows as ERASED.
# The copy is looked for only when the command gave no name (an index scan by learner; skipped otherwise).
_KNOWN = (" FROM (SELECT 1) one LEFT JOIN LATERAL"
          " (SELECT full_name, date_of_birth FROM enrolments WHERE learner_id = $2 AND $5::text IS NULL"
          " UNION ALL SELECT full_name, date_of_birth FROM waiting_list WHERE learner_id = $2 AND $5::text IS NULL"
          " LIMIT 1) k ON true")
_NAME = f"coalesce($5::text, k.full_name, '{ERASED}')"
_BORN = "CASE WHEN $5::text IS NULL THEN k.date_of_birth ELSE $6::date END"


def _person(names: Mapping[UUID, PersonalData], learner_id: UUID) -> tuple:
    person = names.get(learner_id)
    return (person.full_name, person.date_of_birth) if person else (None, None)


def _decision(decision: DispatchDecision | None) -> str | None:
    return None if decision is None else json.dumps(decision.model_dump(mode="json"), ensure_ascii=False)


def _with_decision(row: asyncpg.Record) -> dict:
    found = dict(row)
    found["dispatch_decision"] = json.loads(found["dispatch_decision"]) if found["dispatch_decision"] else None
    return found


def _statements(envelope: Envelope, names: Mapping[UUID, PersonalData]) -> list[tuple[str, tuple]]:
    event = read_event(envelope)
    match event:
        case LearnerEnrolled():
            org = event.sending_organisation
            done = [("INSERT INTO enrolments (class_id, learner_id, centre, seat_number, full_name, date_of_birth,"
                     " organisation_code, organisation_name, enrolled_at, from_waiting_list, dispatch_decision)"
                     f" SELECT $1,$2,$3,$4,{_NAME},{_BORN},$7,$8,$9,$10,$11::jsonb{_KNOWN} ON CONFLICT DO NOTHING",
                     (event.class_id, event.learner_id, envelope.centre, event.seat_number,
                      *_person(names, event.learner_id), org.code, org.name, envelope.occurred_at,
                      event.from_waiting_list, _decision(event.dispatch_decision)))]
            if event.from_waiting_list:
                done.append(("DELETE FROM waiting_list WHERE class_id = $1 AND learner_id = $2",
                             (event.class_id, event.learner_id)))
            return done
        case LearnerWaitlisted():
            org = event.sending_organisation
            return [("INSERT INTO waiting_list (class_id, learner_id, centre, ticket, full_name, date_of_birth,"
                     " organisation_code, organisation_name, waitlisted_at, dispatch_decision)"
                     f" SELECT $1,$2,$3,$4,{_NAME},{_BORN},$7,$8,$9,$10::jsonb{_KNOWN} ON CONFLICT DO NOTHING",
                     (event.class_id, event.learner_id, envelope.centre, envelope.stream_version,
                      *_person(names, event.learner_id), org.code, org.name, envelope.occurred_at,
                      _decision(event.dispatch_decision)))]
        case LearnerWithdrawn():
            key = (event.class_id, event.learner_id)
            return [("DELETE FROM enrolments WHERE class_id = $1 AND learner_id = $2", key),
                    ("DELETE FROM waiting_list WHERE class_id = $1 AND learner_id = $2", key)]
        case OrganisationQuotaSet(quota=None):
            return [("DELETE FROM quotas WHERE class_id = $1 AND organisation_code = $2",
                     (event.class_id, event.organisation_code))]
        case OrganisationQuotaSet():
            return [("INSERT INTO quotas VALUES ($1,$2,$3,$4) ON CONFLICT (class_id, organisation_code)"
                     " DO UPDATE SET quota = excluded.quota",
                     (event.class_id, event.organisation_code, envelope.centre, event.quota))]
    return []


def projection(names: Mapping[UUID, PersonalData] | None = None) -> Statements:
    """The roster's views for some events, in event order, as statements (runs of one go as one executemany: a
    2,000-row import, or many enrolments committed together). `names`: the clear personal data of learners the
    command named (the events carry them sealed)."""
    return Statements(lambda envelopes: (s for envelope in envelopes for s in _statements(envelope, names or {})))


project = projection()


_ROSTER = """
SELECT learner_id, seat_number, full_name, date_of_birth, organisation_code, organisation_name, enrolled_at,
       from_waiting_list, dispatch_decision
FROM enrolments WHERE centre = $1 AND class_id = $2
"""


async def roster(pool: asyncpg.Pool, centre: str, class_id: UUID, *, organisation: str | None = None,
                 after: tuple[int] | None = None, limit: int | None = None) -> list[dict]:
    """The class's seats in seat order, optionally of one organisation's learners, from after seat `after` on."""
    rows = await pool.fetch(_ROSTER + " AND ($3::text IS NULL OR organisation_code = $3)"
                            " AND ($4::bigint IS NULL OR seat_number > $4) ORDER BY seat_number LIMIT $5",
                            centre, class_id, organisation, (after or (None,))[0], limit)
    return [_with_decision(r) for r in rows]


async def enrolment(pool: asyncpg.Pool, centre: str, class_id: UUID, learner_id: UUID) -> dict | None:
    row = await pool.fetchrow(_ROSTER + " AND learner_id = $3", centre, class_id, learner_id)
    return _with_decision(row) if row else None


async def waiting_list(pool: asyncpg.Pool, centre: str, class_id: UUID, *, organisation: str | None = None,
                       after: tuple[int] | None = None, limit: int | None = None) -> list[dict]:
    """The waiting list in order (positions count the whole list, whatever the filter), from after ticket `after`."""
    rows = await pool.fetch(
        "SELECT * FROM (SELECT learner_id, ticket, row_number() OVER (ORDER BY ticket)::int AS position, full_name,"
        " date_of_birth, organisation_code, organisation_name, waitlisted_at, dispatch_decision FROM waiting_list"
        " WHERE centre = $1 AND class_id = $2) w WHERE ($3::text IS NULL OR organisation_code = $3)"
        " AND ($4::bigint IS NULL OR ticket > $4) ORDER BY ticket LIMIT $5",
        centre, class_id, organisation, (after or (None,))[0], limit)
    return [_with_decision(r) for r in rows]


async def quotas(pool: asyncpg.Pool, centre: str, class_id: UUID, *, after: tuple[str] | None = None,
                 limit: int | None = None) -> list[dict]:
    """Each organisation with a quota or a learner in the class: its quota, seats held and learners waiting."""
    rows = await pool.fetch(
        """
        WITH orgs AS (
            SELECT organisation_code FROM quotas WHERE centre = $1 AND class_id = $2
            UNION SELECT organisation_code FROM enrolments WHERE centre = $1 AND class_id = $2
            UNION SELECT organisation_code FROM waiting_list WHERE centre = $1 AND class_id = $2
        )
        SELECT o.organisation_code, q.quota,
               (SELECT count(*) FROM enrolments e WHERE e.class_id = $2 AND e.organisation_code = o.organisation_code)::int
                   AS seated,
               (SELECT count(*) FROM waiting_list w WHERE w.class_id = $2 AND w.organisation_code = o.organisation_code)::int
                   AS waiting
        FROM orgs o LEFT JOIN quotas q ON q.class_id = $2 AND q.organisation_code = o.organisation_code
        WHERE $3::text IS NULL OR o.organisation_code > $3
        ORDER BY o.organisation_code LIMIT $4
        """, centre, class_id, (after or (None,))[0], limit)
    return [dict(r) for r in rows]


async def names(db: asyncpg.Pool | asyncpg.Connection, seats: Sequence[tuple[UUID, UUID]]) -> dict[UUID, str]:
    """The names shown for these (class, learner) seats."""
    rows = await db.fetch("SELECT learner_id, full_name FROM enrolments e JOIN unnest($1::uuid[], $2::uuid[])"
                          " AS s(class_id, learner_id) USING (class_id, learner_id)",
                          [c for c, _ in seats], [learner for _, learner in seats])
    return {r["learner_id"]: r["full_name"] for r in rows}


async def learner_at_centre(db: asyncpg.Pool | asyncpg.Connection, centre: str, learner_id: UUID) -> bool:
    """Whether the learner holds a seat or waits in one of the centre's classes."""
    return bool(await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM enrolments WHERE centre = $1 AND learner_id = $2)"
        " OR EXISTS (SELECT 1 FROM waiting_list WHERE centre = $1 AND learner_id = $2)", centre, learner_id))


async def erase(conn: asyncpg.Connection, learner_id: UUID) -> None:
    """Forget who the learner is, keep where they sat (issue 7): names erased, birth dates dropped; the hashed
    external identifiers (a national ID's hash is as good as the ID: few enough to try them all) deleted, and
    the key they were registered by (a hash of one of those, or of name + birth date) replaced by their id, so
    nobody can find them again by it."""
    await conn.execute("UPDATE enrolments SET full_name = $2, date_of_birth = NULL WHERE learner_id = $1",
                       learner_id, ERASED)
    await conn.execute("UPDATE waiting_list SET full_name = $2, date_of_birth = NULL WHERE learner_id = $1",
                       learner_id, ERASED)
    await conn.execute("DELETE FROM learner_aliases WHERE learner_id = $1", learner_id)
    await conn.execute("UPDATE learners SET identity_key = 'erased:' || learner_id::text WHERE learner_id = $1",
                       learner_id)
