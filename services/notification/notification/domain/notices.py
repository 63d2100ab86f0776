"""The result notice a sending organisation receives when one of its learners' scores is recorded.

A notice is a pure function of the event that caused it: its id derives from the event id and its timestamp is
the event's, so a redelivered event, or the streams replayed into an empty database, yield the same notice with
the same id (the `webhook-id` a receiver deduplicates on).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid5

from ttct.contracts import Envelope, ScoreRecorded

RESULT_RECORDED = "learner.result_recorded"
_NAMESPACE = UUID("6f1f0c2e-7d4b-5a43-9a41-2b0c3c8e9d10")  # fixed forever: changing it changes every notice id


def notice_id_for(notice_type: str, event_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"{notice_type}:{event_id}")


@dataclass(frozen=True)
class Notice:
    notice_id: UUID
    notice_type: str
    event_id: UUID
    organisation_code: str
    centre: str
    class_id: UUID
    learner_id: UUID
    body: str
    """The exact JSON sent and signed: stored as text so every retry carries the same bytes."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def result_notice(envelope: Envelope, event: ScoreRecorded) -> Notice:
    notice_id = notice_id_for(RESULT_RECORDED, envelope.event_id)
    organisation = event.sending_organisation
    payload = {
        "type": RESULT_RECORDED,
        "timestamp": _iso(envelope.occurred_at),
        "data": {
            "notice_id": str(notice_id),
            "province": envelope.province,
            "centre": envelope.centre,
            "class_id": str(event.class_id),
            "class_title": event.class_title,
            "learner_id": str(event.learner_id),
            "full_name": event.full_name,
            "component": event.component,
            "score": float(event.score),
            "grade_band": event.grade_band.value,
            "grade_label": event.grade_band.label,
            "sending_organisation": {"code": organisation.code, "name": organisation.name},
        },
    }
    return Notice(
        notice_id=notice_id,
        notice_type=RESULT_RECORDED,
        event_id=envelope.event_id,
        organisation_code=organisation.code,
        centre=envelope.centre,
        class_id=event.class_id,
        learner_id=event.learner_id,
        body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
    )


def overall_status(delivery_statuses: list[str]) -> str:
    """One word for a notice across its endpoints: did the organisation get it?"""
    if not delivery_statuses:
        return "no_endpoint"
    if "delivered" in delivery_statuses:
        return "delivered"
    if "pending" in delivery_statuses:
        return "pending"
    return "failed"
