"""Scenario 5, the peer: the `eventsourcing` library (PyPI) with its PostgreSQL persistence, in its best
configuration (psycopg-binary, POSTGRES_ENABLE_DB_FUNCTIONS=y), on the same PostgreSQL, in its own database.

The equivalent of our roster: a class aggregate that takes enrolments (capacity checked, one LearnerEnrolled
event per enrolment). Saves per second: each save stores exactly one new event of an aggregate held in memory
(no reload), on 1 thread and on 8 threads, each thread with classes of its own. Catch-up: the library's
ProjectionRunner fills a class-learners view (one row per enrolment, its tracking record in the same
transaction, as ours does) from every event stored so far, from an empty view.
"""
from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import urlsplit

from eventsourcing.application import Application
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.sql import SQL, Identifier

DATABASE = "ttct_bench_peer"


class PeerClass(Aggregate):
    def __init__(self, centre: str, title: str, capacity: int) -> None:
        self.centre, self.title, self.capacity = centre, title, capacity
        self.learners: set[uuid.UUID] = set()

    def enrol_learner(self, learner_id: uuid.UUID, full_name: str, organisation_code: str) -> None:
        if learner_id in self.learners:
            raise ValueError("already enrolled")
        if len(self.learners) >= self.capacity:
            raise ValueError("class full")
        self.enrolled(learner_id, full_name, organisation_code, len(self.learners) + 1)

    @event("LearnerEnrolled")
    def enrolled(self, learner_id: uuid.UUID, full_name: str, organisation_code: str, seat_number: int) -> None:
        self.learners.add(learner_id)


class PeerClasses(Application[uuid.UUID]):
    name = "PeerClasses"


class PeerLearnersView(PostgresTrackingRecorder):
    TABLE = "peer_class_learners"

    def __init__(self, datastore, **kwargs) -> None:  # noqa: ANN001 - the library's signature
        super().__init__(datastore, **kwargs)
        self._table = Identifier(self.datastore.schema), Identifier(self.TABLE)
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {0}.{1} (class_id uuid, learner_id uuid, full_name text, "
            "organisation_code text, seat_number int, PRIMARY KEY (class_id, learner_id))").format(*self._table))
        self._insert = SQL("INSERT INTO {0}.{1} VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING").format(
            *self._table)

    def add_learner(self, e: PeerClass.LearnerEnrolled, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, tracking)
            curs.execute(self._insert, (e.originator_id, e.learner_id, e.full_name, e.organisation_code,
                                        e.seat_number), prepare=True)


class PeerLearners(Projection[PeerLearnersView]):
    name = "peerlearners"

    @singledispatchmethod
    def process_event(self, domain_event, tracking: Tracking) -> None:  # noqa: ANN001
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, domain_event: PeerClass.LearnerEnrolled, tracking: Tracking) -> None:
        self.view.add_learner(domain_event, tracking)


def environment(admin_url: str, pool_size: int = 10) -> dict[str, str]:
    url = urlsplit(admin_url)
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": DATABASE,
            "POSTGRES_HOST": url.hostname or "127.0.0.1", "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres", "POSTGRES_PASSWORD": url.password or "trust",
            "POSTGRES_ENABLE_DB_FUNCTIONS": "y", "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": "0"}


def saves(env: dict[str, str], n: int, threads: int) -> dict[str, float]:
    """n saves of one event each, spread over `threads` threads; saves per second."""
    app = PeerClasses(env=env)
    try:
        per_thread = n // threads
        classes = [[PeerClass("hau-loc", f"Lớp {t}-{k}", 5000) for k in range(max(1, per_thread // 4000 + 1))]
                   for t in range(threads)]
        for mine in classes:
            app.save(*mine)  # creations are not timed
        errors: list[BaseException] = []
        go = threading.Barrier(threads + 1)

        def work(mine: list[PeerClass]) -> None:
            go.wait()
            try:
                for i in range(per_thread):
                    klass = mine[i % len(mine)]
                    klass.enrol_learner(uuid.uuid4(), f"Nguyễn Văn {i}", f"org-{i % 10}")
                    app.save(klass)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        workers = [threading.Thread(target=work, args=(mine,)) for mine in classes]
        for w in workers:
            w.start()
        go.wait()
        started = time.monotonic()
        for w in workers:
            w.join()
        seconds = time.monotonic() - started
        if errors:
            raise errors[0]
        return {"saves_count": per_thread * threads, "saves_s": round(seconds, 2),
                "saves_per_s": round(per_thread * threads / seconds, 1)}
    finally:
        app.close()


def catch_up(env: dict[str, str], timeout: float) -> dict[str, float]:
    """From an empty view, the library's ProjectionRunner over every stored event; events per second."""
    app = PeerClasses(env=env)
    try:
        last = app.recorder.max_notification_id() or 0
    finally:
        app.close()
    _reset_view(env)
    started = time.monotonic()
    with ProjectionRunner(application_class=PeerClasses, projection_class=PeerLearners,
                          view_class=PeerLearnersView, env=env) as runner:
        runner.wait(last, timeout=timeout)
        seconds = time.monotonic() - started
    return {"catchup_events_count": last, "catchup_s": round(seconds, 2),
            "catchup_per_s": round(last / seconds, 1)}


def _reset_view(env: dict[str, str]) -> None:
    import psycopg

    conninfo = (f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} user={env['POSTGRES_USER']} "
                f"dbname={DATABASE}")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass(%s)", (PeerLearnersView.TABLE,)).fetchone()[0]:
            conn.execute(SQL("TRUNCATE {0}").format(Identifier(PeerLearnersView.TABLE)))
        tracking = f"{PeerLearners.name}_tracking"
        if conn.execute("SELECT to_regclass(%s)", (tracking,)).fetchone()[0]:  # keep the library's own row
            conn.execute(SQL("DELETE FROM {0} WHERE application_name <> '__migration__'").format(Identifier(tracking)))
