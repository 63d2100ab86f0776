"""The notices a sending organisation receives, each a pure function of the event(s) that caused it.

A notice's id derives from the causing event's id, its kind and its recipient (uuid5), and its timestamp is the
event's, so a redelivered event, or the streams replayed into an empty database, yield the same notices with the
same ids (the `webhook-id` a receiver deduplicates on). The builders of the other kinds are in `kinds.py`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid5

from ttct.contracts import Envelope, ScoreRecorded

RESULT_RECORDED = "learner.result_recorded"
_NAMESPACE = UUID("6f1f0c2e-7d4b-5a43-9a41-2b0c3c8e9d10")  # fixed forever: changing it changes every notice id


ORGANISATION = "organisation"  # the organisation itself: its webhook endpoints, its feed, its office's email
HEAD = "head"  # the head of its party committee (người đứng đầu cấp ủy), by email


def notice_id_for(notice_type: str, event_id: UUID, recipient: str | None = None) -> UUID:
    """uuid5 of kind, causing event and recipient (`<org code>` or `<org code>#head`); result notices, the
    first kind, were named before recipients existed and keep their ids."""
    name = f"{notice_type}:{event_id}" if recipient is None else f"{notice_type}:{event_id}:{recipient}"
    return uuid5(_NAMESPACE, name)


@dataclass(frozen=True)
class Notice:
    notice_id: UUID
    notice_type: str
    event_id: UUID
    organisation_code: str
    centre: str
    class_id: UUID | None
    learner_id: UUID | None
    body: str
    """The exact JSON sent and signed: stored as text so every retry carries the same bytes."""
    recipient: str = ORGANISATION


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def result_notice(envelope: Envelope, event: ScoreRecorded, full_name: str) -> Notice:
    """`full_name`: opened from the event's sealed name (`ttct.privacy.personal.ERASED` once the learner was erased)."""
    notice_id = notice_id_for(RESULT_RECORDED, envelope.event_id)
    organisation = event.sending_organisation
    payload = {
        "type": RESULT_RECORDED,
        "timestamp": iso(envelope.occurred_at),
        "data": {
            "notice_id": str(notice_id),
            "province": envelope.province,
            "centre": envelope.centre,
            "class_id": str(event.class_id),
            "class_title": event.class_title,
            "learner_id": str(event.learner_id),
            "full_name": full_name,
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
    if "held" in delivery_statuses:
        return "held"  # waiting for the organisation's digest
    if "digested" in delivery_statuses:
        return "digested"  # sent within a digest (see that notice's own status)
    return "failed"
