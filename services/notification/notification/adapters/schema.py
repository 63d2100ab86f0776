"""Notification's own tables, created idempotently at start (under the shared migration lock)."""

SCHEMA = [
    # Projections of the events this service reads.
    """
    CREATE TABLE IF NOT EXISTS classes (
        class_id       uuid PRIMARY KEY,
        centre         text NOT NULL,
        programme_type text NOT NULL,
        title          text NOT NULL,
        starts_on      date NOT NULL,
        ends_on        date NOT NULL,
        venue          text NOT NULL,
        opened_at      timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS organisations (
        code       text PRIMARY KEY,
        name       text NOT NULL,
        updated_at timestamptz NOT NULL
    )
    """,
    # The directory's details (SendingOrganisationRegistered): kind, parent and the contacts emails go to.
    "ALTER TABLE organisations ADD COLUMN IF NOT EXISTS kind text",
    "ALTER TABLE organisations ADD COLUMN IF NOT EXISTS parent_code text",
    "ALTER TABLE organisations ADD COLUMN IF NOT EXISTS contacts jsonb NOT NULL DEFAULT '[]'",
    "ALTER TABLE organisations ADD COLUMN IF NOT EXISTS registered_at timestamptz",
    # One row per (organisation, class, learner): the organisation's learners, with results as they arrive.
    # Score columns may be filled before the enrolment's columns: the two come on different streams.
    """
    CREATE TABLE IF NOT EXISTS organisation_learners (
        organisation_code text NOT NULL,
        class_id          uuid NOT NULL,
        learner_id        uuid NOT NULL,
        centre            text NOT NULL,
        full_name         text NOT NULL,
        class_title       text NOT NULL,
        date_of_birth     date,
        seat_number       integer,
        enrolled_at       timestamptz,
        score             numeric(3, 1),
        grade_band        text,
        scored_at         timestamptz,
        PRIMARY KEY (organisation_code, class_id, learner_id)
    )
    """,
    # enrolled | waitlisted | withdrawn: who a cancelled class concerns.
    "ALTER TABLE organisation_learners ADD COLUMN IF NOT EXISTS status text",
    # The dispatch decision (quyết định cử đi học) the learner's enrolment cited, cited by the class's result report.
    "ALTER TABLE organisation_learners ADD COLUMN IF NOT EXISTS dispatch_decision jsonb",
    # The learner's profile (gender, position, party admission, party card) as the enrolment carried it, still
    # sealed with the learner's key: opened only when the organisation reads the learner's record.
    "ALTER TABLE organisation_learners ADD COLUMN IF NOT EXISTS profile jsonb",
    # The latest attendance per (session, learner), so a re-recorded absence is not alerted twice.
    """
    CREATE TABLE IF NOT EXISTS attendance (
        class_id   uuid NOT NULL,
        session_id uuid NOT NULL,
        learner_id uuid NOT NULL,
        status     text NOT NULL,
        PRIMARY KEY (class_id, session_id, learner_id)
    )
    """,
    # The final results (LearnerResultFinalised; a re-sit replaces the row), read when ClassResultsFinalised
    # comes to build one report per sending organisation.
    """
    CREATE TABLE IF NOT EXISTS final_results (
        class_id          uuid NOT NULL,
        learner_id        uuid NOT NULL,
        organisation_code text NOT NULL,
        organisation_name text NOT NULL,
        result            jsonb NOT NULL,
        PRIMARY KEY (class_id, learner_id)
    )
    """,
    # Configuration owned by this service: not event-sourced, organisations edit it over HTTP.
    """
    CREATE TABLE IF NOT EXISTS webhook_endpoints (
        endpoint_id       uuid PRIMARY KEY,
        organisation_code text NOT NULL,
        url               text NOT NULL,
        description       text,
        secret            text NOT NULL,
        enabled           boolean NOT NULL DEFAULT true,
        disabled_reason   text,
        created_at        timestamptz NOT NULL DEFAULT now(),
        disabled_at       timestamptz
    )
    """,
    # Rotation: the secret replaced, still used to sign (beside the new one) until `previous_secret_until`.
    "ALTER TABLE webhook_endpoints ADD COLUMN IF NOT EXISTS previous_secret text",
    "ALTER TABLE webhook_endpoints ADD COLUMN IF NOT EXISTS previous_secret_until timestamptz",
    """
    CREATE UNIQUE INDEX IF NOT EXISTS webhook_endpoints_enabled_url
        ON webhook_endpoints (organisation_code, url) WHERE enabled
    """,
    # `position` orders an organisation's notices for listing and, later, a polling feed with a cursor.
    """
    CREATE TABLE IF NOT EXISTS notices (
        position          bigserial UNIQUE,
        notice_id         uuid PRIMARY KEY,
        notice_type       text NOT NULL,
        event_id          uuid NOT NULL,
        organisation_code text NOT NULL,
        centre            text NOT NULL,
        class_id          uuid,
        learner_id        uuid,
        body              text NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now()
    )
    """,
    # One event may now cause several notices (one per recipient); `recipient` is 'organisation' (its endpoints,
    # feed and office contacts) or 'head' (the head of its party committee, by email).
    "ALTER TABLE notices DROP CONSTRAINT IF EXISTS notices_event_id_key",
    # the trace of the command that caused the notice, so its delivery attempts join that trace
    "ALTER TABLE notices ADD COLUMN IF NOT EXISTS traceparent text",
    "ALTER TABLE notices ALTER COLUMN class_id DROP NOT NULL",
    "ALTER TABLE notices ALTER COLUMN learner_id DROP NOT NULL",
    "ALTER TABLE notices ADD COLUMN IF NOT EXISTS recipient text NOT NULL DEFAULT 'organisation'",
    "CREATE INDEX IF NOT EXISTS notices_by_event ON notices (event_id)",
    # A class's cancellation, kept so that a learner whose enrolment is applied after it (another stream, which
    # may lag) is told too
    "ALTER TABLE classes ADD COLUMN IF NOT EXISTS cancelled_reason text",
    # Who was told what about which class, once: a learner named in a notice of the class's cancellation (by the
    # cancellation itself, or by their own enrolment applied after it) is never named in another, whatever the
    # order the two streams are applied in, a redelivery or a learner waitlisted then promoted. Not a projection:
    # a rebuild keeps it, as it keeps the notices.
    """
    CREATE TABLE IF NOT EXISTS learners_told (
        class_id    uuid NOT NULL,
        learner_id  uuid NOT NULL,
        notice_type text NOT NULL,
        event_id    uuid NOT NULL,
        told_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (class_id, learner_id, notice_type)
    )
    """,
    # The polling feed's order: given after commit, one sequencer at a time, so a notice whose transaction
    # commits late still comes after every cursor already handed out (`position` is taken at insert, and a
    # reader could pass a lower one still uncommitted).
    "ALTER TABLE notices ADD COLUMN IF NOT EXISTS feed_position bigint",
    "CREATE SEQUENCE IF NOT EXISTS notices_feed_seq",
    "CREATE UNIQUE INDEX IF NOT EXISTS notices_feed ON notices (organisation_code, feed_position)",
    """CREATE INDEX IF NOT EXISTS notices_unsequenced ON notices (position)
       WHERE feed_position IS NULL AND recipient = 'organisation'""",
    "CREATE INDEX IF NOT EXISTS notices_by_organisation ON notices (organisation_code, position)",
    # The notices log (every recipient's notices, not only the feed's) is paged by the same committed order.
    "CREATE INDEX IF NOT EXISTS notices_unsequenced_all ON notices (position) WHERE feed_position IS NULL",
    """
    CREATE TABLE IF NOT EXISTS deliveries (
        delivery_id     uuid PRIMARY KEY,
        notice_id       uuid NOT NULL REFERENCES notices,
        endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints,
        status          text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until     timestamptz,
        lease_token     uuid,
        last_error      text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        delivered_at    timestamptz,
        UNIQUE (notice_id, endpoint_id)
    )
    """,
    # 'held': waiting for the organisation's digest (channel in digest mode); 'digested': sent in a digest.
    "ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_status_check",
    """ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
       CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled', 'held', 'digested'))""",
    "CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending'",
    """
    CREATE TABLE IF NOT EXISTS delivery_attempts (
        attempt_id    bigserial PRIMARY KEY,
        delivery_id   uuid NOT NULL REFERENCES deliveries,
        attempt_no    integer NOT NULL,
        attempted_at  timestamptz NOT NULL,
        status_code   integer,
        latency_ms    integer,
        error         text,
        outcome       text NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS delivery_attempts_by_delivery ON delivery_attempts (delivery_id, attempt_id)",
    # Email: one delivery per notice and address, claimed and retried like webhook deliveries.
    """
    CREATE TABLE IF NOT EXISTS email_deliveries (
        delivery_id     uuid PRIMARY KEY,
        notice_id       uuid NOT NULL REFERENCES notices,
        address         text NOT NULL,
        contact_name    text,
        status          text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until     timestamptz,
        lease_token     uuid,
        last_error      text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        delivered_at    timestamptz,
        UNIQUE (notice_id, address)
    )
    """,
    "ALTER TABLE email_deliveries DROP CONSTRAINT IF EXISTS email_deliveries_status_check",
    """ALTER TABLE email_deliveries ADD CONSTRAINT email_deliveries_status_check
       CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled', 'held', 'digested'))""",
    # Per organisation and channel: every notice as it happens ('immediate') or a digest per class ('digest').
    """
    CREATE TABLE IF NOT EXISTS channel_preferences (
        organisation_code text NOT NULL,
        channel           text NOT NULL CHECK (channel IN ('webhook', 'email')),
        mode              text NOT NULL CHECK (mode IN ('immediate', 'digest')),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (organisation_code, channel)
    )
    """,
    "CREATE INDEX IF NOT EXISTS email_deliveries_due ON email_deliveries (next_attempt_at) WHERE status = 'pending'",
    """
    CREATE TABLE IF NOT EXISTS email_attempts (
        attempt_id    bigserial PRIMARY KEY,
        delivery_id   uuid NOT NULL REFERENCES email_deliveries,
        attempt_no    integer NOT NULL,
        attempted_at  timestamptz NOT NULL,
        smtp_code     integer,
        latency_ms    integer,
        error         text,
        outcome       text NOT NULL
    )
    """,
    # Who succeeded whom (OrganisationsMerged, OrganisationDissolved): from its effective day a predecessor's mail
    # goes to its successor, and the successor reads its predecessors' learners and reports.
    """
    CREATE TABLE IF NOT EXISTS organisation_successions (
        predecessor_code text PRIMARY KEY,
        successor_code   text NOT NULL,
        change           text NOT NULL,
        effective_on     date NOT NULL,
        decision         jsonb NOT NULL,
        recorded_at      timestamptz NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS organisation_successions_by_successor ON organisation_successions (successor_code)",
    # The organisation whose mail `$1`'s is for an event at `$3` (on day `$2` in Vietnam): itself, or the end of its
    # chain of successions in force that day and recorded by then. Recorded by then: an event applied before the
    # change was known is addressed on replay (a rebuild) as it was live, so a rebuild sends nothing new.
    """
    CREATE OR REPLACE FUNCTION organisation_addressee(text, date, timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
        WITH RECURSIVE chain(code, depth) AS (
            SELECT $1, 0
            UNION ALL
            SELECT s.successor_code, c.depth + 1 FROM chain c
            JOIN organisation_successions s ON s.predecessor_code = c.code AND s.effective_on <= $2
                                           AND s.recorded_at <= $3
            WHERE c.depth < 20
        )
        SELECT code FROM chain ORDER BY depth DESC LIMIT 1
    $$
    """,
]
