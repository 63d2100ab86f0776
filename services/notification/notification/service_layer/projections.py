"""What each consumed event does here. Handlers run inside the consumer's transaction (which also records the
checkpoint) and write only through its connection, so an event's effects, its notices and their deliveries, and
its checkpoint commit together: a redelivered or replayed event adds nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import asyncpg
import structlog
from ttct import centres
from ttct.contracts import ClassOpened, Envelope, LearnerEnrolled, ScoreRecorded
from ttct.contracts.attendance_recorded import AttendanceRecorded
from ttct.contracts.class_cancelled import ClassCancelled
from ttct.contracts.class_results_finalised import ClassResultsFinalised
from ttct.contracts.eligibility_lost import EligibilityLost
from ttct.contracts.eligibility_restored import EligibilityRestored
from ttct.contracts.learner_erased import LearnerErased
from ttct.contracts.learner_result_finalised import LearnerResultFinalised
from ttct.contracts.learner_waitlisted import LearnerWaitlisted
from ttct.contracts.learner_withdrawn import LearnerWithdrawn
from ttct.contracts.organisation_dissolved import OrganisationDissolved
from ttct.contracts.organisation_moved import OrganisationMoved
from ttct.contracts.organisation_renamed import OrganisationRenamed
from ttct.contracts.organisations_merged import OrganisationsMerged
from ttct.contracts.sending_organisation_registered import SendingOrganisationRegistered
from ttct.papers.labels import local_day
from ttct.privacy.personal import KeyRing, display_name

from notification.adapters import notices, successions, views
from notification.domain import kinds
from notification.domain.notices import HEAD, Notice, result_notice

log = structlog.get_logger("notification.projections")


@dataclass(frozen=True)
class Projections:
    """The handlers, with what they need from the settings."""

    email: bool = False
    """queue email deliveries (SMTP is configured)"""
    centre: Callable[[str], kinds.Centre] = lambda code: kinds.Centre(code, f"Trung tâm Chính trị {code}")
    email_backfill_days: float = 7.0
    """how old a notice may be and still be emailed when its organisation's contacts arrive after it"""
    keyring: KeyRing = field(default_factory=KeyRing)
    """opens the learners' sealed names (issue 7): None, shown as erased, once a learner's key is destroyed"""
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    async def _send(self, conn: asyncpg.Connection, envelope: Envelope, items: list[Notice]) -> None:
        for notice in items:  # a notice of an event after a merge in force is the successor's
            queued = await notices.add(conn, notice, email=self.email, at=envelope.occurred_at)
            log.info("notice created", notice_id=str(notice.notice_id), notice_type=notice.notice_type,
                     event_id=str(envelope.event_id), organisation=notice.organisation_code,
                     recipient=notice.recipient, deliveries=queued)

    async def class_opened(self, conn: asyncpg.Connection, envelope: Envelope, event: ClassOpened) -> None:
        await views.save_class(conn, envelope.centre, event, envelope.occurred_at)

    async def organisation_registered(self, conn: asyncpg.Connection, envelope: Envelope,
                                      event: SendingOrganisationRegistered) -> None:
        if self.email:
            await notices.lock_organisation(conn, event.code)
        await views.save_registration(conn, event, envelope.occurred_at)
        if self.email:
            contacts = [c.model_dump(mode="json") for c in event.contacts]
            queued = await notices.email_unsent(conn, event.code, contacts, self.email_backfill_days)
            if queued:
                log.info("emails queued for notices created before the contacts were known", organisation=event.code,
                         emails=queued)

    async def learner_enrolled(self, conn: asyncpg.Connection, envelope: Envelope, event: LearnerEnrolled) -> None:
        await views.lock_class(conn, event.class_id)
        who = await self.keyring.open(event.personal)
        await views.save_enrolment(conn, envelope.centre, event, envelope.occurred_at, who)
        await self._send(conn, envelope, [kinds.enrolment_notice(envelope, event, who)])
        await self._cancelled_already(conn, envelope, event, who)

    async def _cancelled_already(self, conn: asyncpg.Connection, envelope: Envelope,
                                 event: LearnerEnrolled | LearnerWaitlisted, who) -> None:
        """Scheduling's and enrolment's streams are applied independently: a class's cancellation may have been
        applied before this enrolment, and named only the learners known then. The class's lock (taken first)
        orders the two, so one of them sees the other; the learner is told once (not again on a promotion from
        the waiting list, nor when the cancellation is applied again)."""
        reason = await views.cancellation(conn, event.class_id)
        if reason is not None and await views.mark_told(conn, event.class_id, [event.learner_id],
                                                        kinds.CLASS_CANCELLED, envelope.event_id):
            await self._send(conn, envelope, [kinds.late_cancelled_notice(envelope, event, reason, who)])

    async def learner_waitlisted(self, conn: asyncpg.Connection, envelope: Envelope,
                                 event: LearnerWaitlisted) -> None:
        await views.lock_class(conn, event.class_id)
        await views.save_organisation(conn, event.sending_organisation, envelope.occurred_at)
        who = await self.keyring.open(event.personal)
        await views.save_waitlisted(conn, envelope.centre, event, who)
        await self._send(conn, envelope, [kinds.waitlisted_notice(envelope, event, who)])
        await self._cancelled_already(conn, envelope, event, who)

    async def learner_withdrawn(self, conn: asyncpg.Connection, envelope: Envelope, event: LearnerWithdrawn) -> None:
        await views.save_withdrawn(conn, event.sending_organisation.code, event.class_id, event.learner_id)

    async def class_cancelled(self, conn: asyncpg.Connection, envelope: Envelope, event: ClassCancelled) -> None:
        await views.lock_class(conn, event.class_id)  # see _cancelled_already
        await views.cancel_class(conn, event.class_id, event.reason)
        affected = await views.learners_in_class(conn, event.class_id)
        # one notice per organisation as of the cancellation: predecessors merged by then, their successor's one
        now_named = await successions.addressees(conn, [x.organisation.code for x in affected], envelope.occurred_at)
        affected = [replace(x, organisation=now_named.get(x.organisation.code, x.organisation)) for x in affected]
        untold = await views.mark_told(conn, event.class_id, [x.learner_id for x in affected], kinds.CLASS_CANCELLED,
                                       envelope.event_id)
        await self._send(conn, envelope,
                         kinds.cancelled_notices(envelope, event, [x for x in affected if x.learner_id in untold]))

    async def attendance_recorded(self, conn: asyncpg.Connection, envelope: Envelope,
                                  event: AttendanceRecorded) -> None:
        before = await views.record_attendance(conn, event)
        if event.status == "absent" and before != "absent":  # a re-recorded absence is not alerted again
            title = await views.class_title(conn, event.class_id)
            name = display_name(await self.keyring.open(event.personal))
            await self._send(conn, envelope, kinds.absence_notices(envelope, event, title, name))

    async def eligibility_lost(self, conn: asyncpg.Connection, envelope: Envelope,
                               event: EligibilityLost | EligibilityRestored) -> None:
        """The loss of eligibility, or (EligibilityRestored) its return."""
        name = display_name(await self.keyring.open(event.personal))
        await self._send(conn, envelope, kinds.eligibility_notices(envelope, event, name))

    async def score_recorded(self, conn: asyncpg.Connection, envelope: Envelope, event: ScoreRecorded) -> None:
        """One result notice to the learner's sending organisation."""
        name = display_name(await self.keyring.open(event.personal))
        await views.save_result(conn, envelope.centre, event, envelope.occurred_at, name)
        await self._send(conn, envelope, [result_notice(envelope, event, name)])

    async def result_finalised(self, conn: asyncpg.Connection, envelope: Envelope,
                               event: LearnerResultFinalised) -> None:
        name = display_name(await self.keyring.open(event.personal))
        await views.save_final_result(conn, event, kinds.result_line(event, name))

    async def results_finalised(self, conn: asyncpg.Connection, envelope: Envelope,
                                event: ClassResultsFinalised) -> None:
        """One report per sending organisation; its learners' LearnerResultFinalised came before, on the same
        stream (assessment:class:<id>), so they are all stored by now."""
        lines = await views.final_results(conn, event.class_id)
        decisions = await views.dispatch_decisions(conn, event.class_id)
        # an organisation merged or dissolved by the day of the results: one report, to its successor, with the
        # learners of all its predecessors (as of the event, so a rebuild derives the same reports)
        now_named = await successions.addressees(conn, [o.code for o, _ in lines], envelope.occurred_at)
        if now_named:
            lines = [(now_named.get(o.code, o), line) for o, line in lines]
            merged: dict[str, list] = {}
            for code, cited in decisions.items():
                merged.setdefault(now_named[code].code if code in now_named else code, []).extend(cited)
            decisions = merged
        # the centre by its registered name on the day of the results, over the CENTRES setting's
        centre = self.centre(envelope.centre)
        registered = await centres.name_on(conn, envelope.centre, local_day(envelope.occurred_at))
        centre = kinds.Centre(centre.code, registered) if registered else centre
        reports = kinds.report_notices(envelope, event, centre, lines, decisions)
        if self.clock() - envelope.occurred_at > timedelta(days=self.email_backfill_days):
            # history replayed (a rebuild): the heads' reports are newer than the service's first report of these
            # classes, so a rebuild after an upgrade would email every head years of reports; they get none
            reports = [n for n in reports if n.recipient != HEAD]
        await self._send(conn, envelope, reports)

    async def organisations_merged(self, conn: asyncpg.Connection, envelope: Envelope,
                                   event: OrganisationsMerged) -> None:
        await successions.save(conn, event.predecessor_codes, event.successor_code, "merged", event.effective_on,
                               event.decision, envelope.occurred_at)
        await self._readdress_if_due(conn, event.effective_on)

    async def organisation_dissolved(self, conn: asyncpg.Connection, envelope: Envelope,
                                     event: OrganisationDissolved) -> None:
        await successions.save(conn, [event.code], event.successor_code, "dissolved", event.effective_on,
                               event.decision, envelope.occurred_at)
        await self._readdress_if_due(conn, event.effective_on)

    async def _readdress_if_due(self, conn: asyncpg.Connection, effective_on: date) -> None:
        """In force already (a date today or past): now. Dated ahead: the worker's daily pass does it then."""
        today = local_day(self.clock())
        if effective_on <= today:
            moved, disabled = await successions.readdress(conn, self.clock(), email=self.email)
            log.info("notices re-addressed to successors", notices=moved, endpoints_disabled=disabled)

    async def organisation_renamed(self, conn: asyncpg.Connection, envelope: Envelope,
                                   event: OrganisationRenamed) -> None:
        await successions.rename(conn, event.code, event.name, envelope.occurred_at)

    async def organisation_moved(self, conn: asyncpg.Connection, envelope: Envelope, event: OrganisationMoved) -> None:
        await successions.move(conn, event.code, event.parent_code)

    async def learner_erased(self, conn: asyncpg.Connection, envelope: Envelope, event: LearnerErased) -> None:
        """Issue 7: the learner's name and birth date leave every view and stored notice."""
        self.keyring.forget(event.learner_id)
        redacted = await views.erase(conn, event.learner_id)
        log.info("learner erased", learner_id=str(event.learner_id), notices=redacted)
