"""What each consumed event does here. Handlers run inside the consumer's transaction (which also records the
checkpoint) and write only through its connection, so an event's effects and its checkpoint commit together.
"""
from __future__ import annotations

import asyncpg
import structlog

from ttct.contracts import ClassOpened, Envelope, LearnerEnrolled, ScoreRecorded

from notification.adapters import notices, views
from notification.domain.notices import result_notice

log = structlog.get_logger("notification.projections")


async def class_opened(conn: asyncpg.Connection, envelope: Envelope, event: ClassOpened) -> None:
    await views.save_class(conn, envelope.centre, event, envelope.occurred_at)


async def learner_enrolled(conn: asyncpg.Connection, envelope: Envelope, event: LearnerEnrolled) -> None:
    await views.save_organisation(conn, event.sending_organisation, envelope.occurred_at)
    await views.save_enrolment(conn, envelope.centre, event, envelope.occurred_at)


async def score_recorded(conn: asyncpg.Connection, envelope: Envelope, event: ScoreRecorded) -> None:
    """One result notice to the learner's sending organisation, queued for each of its enabled endpoints."""
    await views.save_organisation(conn, event.sending_organisation, envelope.occurred_at)
    await views.save_result(conn, envelope.centre, event, envelope.occurred_at)
    notice = result_notice(envelope, event)
    queued = await notices.add(conn, notice)
    log.info("result notice created", notice_id=str(notice.notice_id), event_id=str(envelope.event_id),
             organisation=notice.organisation_code, deliveries=queued)
