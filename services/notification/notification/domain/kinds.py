"""What is sent, and to whom: one builder per kind of notice, each a pure function of its event (and, for the
cancelled class and the result report, of facts the projections gathered from earlier events).

| kind | caused by | to |
| --- | --- | --- |
| `enrolment.confirmed` | LearnerEnrolled | the sending organisation |
| `enrolment.promoted` | LearnerEnrolled with `from_waiting_list` | the sending organisation |
| `enrolment.waitlisted` | LearnerWaitlisted | the sending organisation |
| `class.cancelled` | ClassCancelled | every organisation with learners (seated or waiting) in the class |
| `attendance.absent` | AttendanceRecorded, status absent | the organisation and the head of its party committee |
| `attendance.eligibility_lost` | EligibilityLost | the organisation and the head of its party committee |
| `attendance.eligibility_restored` | EligibilityRestored | the organisation and the head of its party committee |
| `class.result_report` | ClassResultsFinalised | each organisation with learners in the class, one report; and the head of its party committee |

A kind sent to the head too (`HEAD_TOO`) goes to the organisation's other contacts as its own notice and to the
head as another, so nobody is emailed it twice.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from ttct.contracts import Envelope
from ttct.contracts.attendance_recorded import AttendanceRecorded
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.class_results_finalised import ClassResultsFinalised
from ttct.contracts.eligibility_lost import EligibilityLost
from ttct.contracts.eligibility_restored import EligibilityRestored
from ttct.contracts.learner_enrolled import LearnerEnrolled
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.contracts.types import PersonalData, SendingOrganisation
from ttct.papers import labels
from ttct.privacy.personal import birth_date, display_name

from ttct.domain.names import name_sort_key
from notification.domain.notices import HEAD, ORGANISATION, Notice, iso, notice_id_for

ENROLMENT_CONFIRMED = "enrolment.confirmed"
ENROLMENT_PROMOTED = "enrolment.promoted"
ENROLMENT_WAITLISTED = "enrolment.waitlisted"
CLASS_CANCELLED = "class.cancelled"
ABSENT = "attendance.absent"
ELIGIBILITY_LOST = "attendance.eligibility_lost"
ELIGIBILITY_RESTORED = "attendance.eligibility_restored"
RESULT_REPORT = "class.result_report"
REPORT_TITLE = "Thông báo kết quả học tập"
HEAD_TOO = frozenset({ABSENT, ELIGIBILITY_LOST, ELIGIBILITY_RESTORED, RESULT_REPORT})


@dataclass(frozen=True)
class Centre:
    code: str
    name: str


def _notice(kind: str, envelope: Envelope, organisation: SendingOrganisation, data: dict[str, Any], *,
            class_id: UUID | None, learner_id: UUID | None = None, recipient: str = ORGANISATION) -> Notice:
    key = organisation.code if recipient == ORGANISATION else f"{organisation.code}#{recipient}"
    notice_id = notice_id_for(kind, envelope.event_id, key)
    payload = {
        "type": kind,
        "timestamp": iso(envelope.occurred_at),
        "data": {"notice_id": str(notice_id), "recipient": recipient, "province": envelope.province,
                 "centre": envelope.centre, **data,
                 "sending_organisation": {"code": organisation.code, "name": organisation.name}},
    }
    return Notice(notice_id=notice_id, notice_type=kind, event_id=envelope.event_id,
                  organisation_code=organisation.code, centre=envelope.centre, class_id=class_id,
                  learner_id=learner_id, body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                  recipient=recipient)


def _both(kind: str, envelope: Envelope, organisation: SendingOrganisation, data: dict[str, Any], *,
          class_id: UUID, learner_id: UUID) -> list[Notice]:
    return [_notice(kind, envelope, organisation, data, class_id=class_id, learner_id=learner_id,
                    recipient=recipient) for recipient in (ORGANISATION, HEAD)]


def _born(who: PersonalData | None) -> str | None:
    born = birth_date(who)
    return born.isoformat() if born else None


def enrolment_notice(envelope: Envelope, event: LearnerEnrolled, who: PersonalData | None) -> Notice:
    """`who`: the event's personal data opened (None once the learner was erased: the notice says so)."""
    kind = ENROLMENT_PROMOTED if event.from_waiting_list else ENROLMENT_CONFIRMED
    return _notice(kind, envelope, event.sending_organisation, {
        "class_id": str(event.class_id), "class_title": event.class_title, "learner_id": str(event.learner_id),
        "full_name": display_name(who), "date_of_birth": _born(who),
        "seat_number": event.seat_number, "from_waiting_list": event.from_waiting_list,
    }, class_id=event.class_id, learner_id=event.learner_id)


def waitlisted_notice(envelope: Envelope, event: LearnerWaitlisted, who: PersonalData | None) -> Notice:
    return _notice(ENROLMENT_WAITLISTED, envelope, event.sending_organisation, {
        "class_id": str(event.class_id), "class_title": event.class_title, "learner_id": str(event.learner_id),
        "full_name": display_name(who), "date_of_birth": _born(who), "position": event.position,
    }, class_id=event.class_id, learner_id=event.learner_id)


@dataclass(frozen=True)
class AffectedLearner:
    organisation: SendingOrganisation
    learner_id: UUID
    full_name: str
    status: str  # enrolled | waitlisted


def cancelled_notices(envelope: Envelope, event: ClassCancelled, learners: Iterable[AffectedLearner]) -> list[Notice]:
    """One notice per organisation with learners in the class, naming its learners (Vietnamese order)."""
    by_org: dict[str, list[AffectedLearner]] = {}
    for learner in learners:
        by_org.setdefault(learner.organisation.code, []).append(learner)
    notices = []
    for code in sorted(by_org):
        mine = sorted(by_org[code], key=lambda x: name_sort_key(x.full_name))
        notices.append(_notice(CLASS_CANCELLED, envelope, mine[0].organisation, {
            "class_id": str(event.class_id), "class_title": event.class_title, "reason": event.reason,
            "learners": [{"learner_id": str(x.learner_id), "full_name": x.full_name, "status": x.status}
                         for x in mine],
        }, class_id=event.class_id))
    return notices


def late_cancelled_notice(envelope: Envelope, event: LearnerEnrolled | LearnerWaitlisted, reason: str,
                          who: PersonalData | None) -> Notice:
    """The class's cancellation for a learner whose enrolment (or waiting place) was applied after it: the
    cancellation named the organisation's learners known then, so this one is told on its own. Caused by (and
    named after) the enrolment's event, so a replay adds nothing."""
    status = "waitlisted" if isinstance(event, LearnerWaitlisted) else "enrolled"
    return _notice(CLASS_CANCELLED, envelope, event.sending_organisation, {
        "class_id": str(event.class_id), "class_title": event.class_title, "reason": reason,
        "learners": [{"learner_id": str(event.learner_id), "full_name": display_name(who), "status": status}],
    }, class_id=event.class_id)


def absence_notices(envelope: Envelope, event: AttendanceRecorded, class_title: str | None,
                    full_name: str) -> list[Notice]:
    return _both(ABSENT, envelope, event.sending_organisation, {
        "class_id": str(event.class_id), "class_title": class_title, "session_id": str(event.session_id),
        "session_date": event.session_date.isoformat(), "learner_id": str(event.learner_id),
        "full_name": full_name,
    }, class_id=event.class_id, learner_id=event.learner_id)


def eligibility_notices(envelope: Envelope, event: EligibilityLost | EligibilityRestored,
                        full_name: str) -> list[Notice]:
    """The loss of eligibility, or its return, to the organisation and to the head of its party committee."""
    kind = ELIGIBILITY_RESTORED if isinstance(event, EligibilityRestored) else ELIGIBILITY_LOST
    return _both(kind, envelope, event.sending_organisation, {
        "class_id": str(event.class_id), "class_title": event.class_title, "learner_id": str(event.learner_id),
        "full_name": full_name, "sessions_counted": event.sessions_counted, "absences": event.absences,
        "max_absence_ratio": float(event.max_absence_ratio),
    }, class_id=event.class_id, learner_id=event.learner_id)


def result_line(event: LearnerResultFinalised, full_name: str) -> dict[str, Any]:
    """One learner's line of the report, as stored until the class's results are final."""
    band = event.grade_band
    return {
        "learner_id": str(event.learner_id), "full_name": full_name, "eligible": event.eligible,
        "sessions_attended": event.sessions_attended, "sessions_counted": event.sessions_counted,
        "final_score": None if event.final_score is None else float(event.final_score),
        "grade_band": band.value if band else None, "grade_label": band.label if band else None,
        "passed": event.passed, "conduct": event.conduct,
        "conduct_label": labels.conduct(event.conduct) or None,
        "certificate_number": event.certificate_number,
    }


def report_notices(envelope: Envelope, event: ClassResultsFinalised, centre: Centre,
                   lines: Iterable[tuple[SendingOrganisation, dict[str, Any]]],
                   decisions: Mapping[str, list[dict[str, Any]]] | None = None) -> list[Notice]:
    """One "Thông báo kết quả học tập" per sending organisation, its learners sorted the Vietnamese way, to the
    organisation and to the head of its party committee; it cites the organisation's dispatch decisions that sent
    them (`decisions`, by organisation code)."""
    by_org: dict[str, tuple[SendingOrganisation, list[dict[str, Any]]]] = {}
    for organisation, line in lines:
        by_org.setdefault(organisation.code, (organisation, []))[1].append(line)
    notices = []
    for code in sorted(by_org):
        organisation, mine = by_org[code]
        mine = sorted(mine, key=lambda x: name_sort_key(x["full_name"]))
        notices += [_notice(RESULT_REPORT, envelope, organisation, {
            "title": REPORT_TITLE, "centre_name": centre.name, "class_id": str(event.class_id),
            "class_title": event.class_title, "programme_type": event.programme_type,
            "learners": mine, "summary": {"learners": len(mine), "passed": sum(1 for x in mine if x["passed"])},
            "dispatch_decisions": (decisions or {}).get(code, []),
        }, class_id=event.class_id, recipient=recipient) for recipient in (ORGANISATION, HEAD)]
    return notices


CLASS_DIGEST = "class.digest"
DIGEST = "digest"  # the recipient of a digest notice: whoever held the notices it gathers


def digest_notice(organisation: SendingOrganisation, centre: str, class_id: UUID, class_title: str | None,
                  channel: str, recipient: str, items: list[dict[str, Any]], at: datetime) -> Notice:
    """The notices an organisation in digest mode held for one class and channel, in one notice. Its id derives
    from the ids it gathers, so building the same digest again (a crash before commit) gives the same id."""
    key = uuid5(UUID(int=0), ",".join(sorted(item["data"]["notice_id"] for item in items)))
    notice_id = notice_id_for(CLASS_DIGEST, key, f"{organisation.code}#{channel}#{recipient}")
    payload = {"type": CLASS_DIGEST, "timestamp": iso(at), "data": {
        "notice_id": str(notice_id), "recipient": recipient, "channel": channel, "centre": centre,
        "class_id": str(class_id), "class_title": class_title, "count": len(items), "notices": items,
        "sending_organisation": {"code": organisation.code, "name": organisation.name}}}
    return Notice(notice_id=notice_id, notice_type=CLASS_DIGEST, event_id=key, organisation_code=organisation.code,
                  centre=centre, class_id=class_id, learner_id=None,
                  body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")), recipient=DIGEST)
