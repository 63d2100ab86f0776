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
        event_id          uuid NOT NULL UNIQUE,
        organisation_code text NOT NULL,
        centre            text NOT NULL,
        class_id          uuid NOT NULL,
        learner_id        uuid NOT NULL,
        body              text NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX IF NOT EXISTS notices_by_organisation ON notices (organisation_code, position)",
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
]
