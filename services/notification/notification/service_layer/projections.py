"""What each consumed event does here. Handlers run inside the consumer's transaction (which also records the
checkpoint) and write only through its connection, so an event's effects, its notices and their deliveries, and
its checkpoint commit together: a redelivered or replayed event adds nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

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
from ttct.operations.telemetry import current_trace_headers
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
        """The notices of one event applied on its own (its `process` span is the current one)."""
        traceparent = current_trace_headers().get("traceparent") or envelope.traceparent
        await self._send_run(conn, [(envelope, items)], traceparent=traceparent)

    async def _send_run(self, conn: asyncpg.Connection, sent: Sequence[tuple[Envelope, list[Notice]]], *,
                        traceparent: str | None = None) -> None:
        """The notices of a run of events, stored together in their order; a notice of an event after a merge
        in force is the successor's. Without `traceparent`, each notice's deliveries join its event's trace."""
        outgoing = [notices.Outgoing(notice, envelope.occurred_at, traceparent or envelope.traceparent)
                    for envelope, items in sent for notice in items]
        stored, queued = await notices.add_all(conn, outgoing, email=self.email)
        if stored:
            log.info("notices created", notices=stored, deliveries=queued, events=len(sent),
                     notice_types=sorted({o.notice.notice_type for o in outgoing}))

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

    async def learners_placed(self, conn: asyncpg.Connection,
                              items: Sequence[tuple[Envelope, LearnerEnrolled | LearnerWaitlisted]]) -> None:
        """A run of enrolments and waiting places (an organisation's list: thousands), with the effects of
        applying them one by one in a few statements: the learners' rows, a notice each, and the late
        cancellation of a class cancelled before them (`_cancelled_already`)."""
        await views.lock_classes(conn, [event.class_id for _, event in items])
        placed = [(envelope, event, await self.keyring.open(event.personal)) for envelope, event in items]
        await views.save_placed(conn, placed)
        late = await self._cancelled_already(conn, placed)
        await self._send_run(conn, [
            (envelope, [kinds.enrolment_notice(envelope, event, who) if isinstance(event, LearnerEnrolled)
                        else kinds.waitlisted_notice(envelope, event, who), *late.get(envelope.event_id, [])])
            for envelope, event, who in placed])

    async def learner_enrolled(self, conn: asyncpg.Connection, envelope: Envelope, event: LearnerEnrolled) -> None:
        await self.learners_placed(conn, [(envelope, event)])

    async def learner_waitlisted(self, conn: asyncpg.Connection, envelope: Envelope,
                                 event: LearnerWaitlisted) -> None:
        await self.learners_placed(conn, [(envelope, event)])

    async def _cancelled_already(self, conn: asyncpg.Connection, placed: Sequence[views.Placed]
                                 ) -> dict[UUID, list[Notice]]:
        """Scheduling's and enrolment's streams are applied independently: a class's cancellation may have been
        applied before these enrolments, and named only the learners known then. The classes' locks (taken
        first) order the two, so one of them sees the other; each learner is told once (not again on a promotion
        from the waiting list, nor when the cancellation is applied again). The late notices, by the event that
        caused them."""
        reasons = await views.cancellations(conn, [event.class_id for _, event, _ in placed])
        if not reasons:
            return {}
        concerned = [(envelope, event, who) for envelope, event, who in placed if event.class_id in reasons]
        untold = await views.mark_told_each(
            conn, [(event.class_id, event.learner_id, envelope.event_id) for envelope, event, _ in concerned],
            kinds.CLASS_CANCELLED)
        late: dict[UUID, list[Notice]] = {}
        for envelope, event, who in concerned:
            if (event.class_id, event.learner_id) in untold:  # told by the first of its events in the run
                untold.discard((event.class_id, event.learner_id))
                late[envelope.event_id] = [kinds.late_cancelled_notice(envelope, event, reasons[event.class_id], who)]
        return late

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

    async def attendances_recorded(self, conn: asyncpg.Connection,
                                   items: Sequence[tuple[Envelope, AttendanceRecorded]]) -> None:
        """A run of attendance (a session's roll call): an absence alert for each learner newly recorded absent
        (a re-recorded absence is not alerted again)."""
        before = await views.record_attendances(conn, [event for _, event in items])
        absent = [(envelope, event) for (envelope, event), was in zip(items, before)
                  if event.status == "absent" and was != "absent"]
        if not absent:
            return
        titles = await views.class_titles(conn, [event.class_id for _, event in absent])
        await self._send_run(conn, [
            (envelope, kinds.absence_notices(envelope, event, titles.get(event.class_id),
                                             display_name(await self.keyring.open(event.personal))))
            for envelope, event in absent])

    async def attendance_recorded(self, conn: asyncpg.Connection, envelope: Envelope,
                                  event: AttendanceRecorded) -> None:
        await self.attendances_recorded(conn, [(envelope, event)])

    async def eligibility_lost(self, conn: asyncpg.Connection, envelope: Envelope,
                               event: EligibilityLost | EligibilityRestored) -> None:
        """The loss of eligibility, or (EligibilityRestored) its return."""
        name = display_name(await self.keyring.open(event.personal))
        await self._send(conn, envelope, kinds.eligibility_notices(envelope, event, name))

    async def scores_recorded(self, conn: asyncpg.Connection, items: Sequence[tuple[Envelope, ScoreRecorded]]
                              ) -> None:
        """A run of scores (a class's scores saved at once): one result notice each, to the learner's sending
        organisation."""
        named = [(envelope, event, display_name(await self.keyring.open(event.personal))) for envelope, event in items]
        await views.save_results(conn, named)
        await self._send_run(conn, [(envelope, [result_notice(envelope, event, name)])
                                    for envelope, event, name in named])

    async def score_recorded(self, conn: asyncpg.Connection, envelope: Envelope, event: ScoreRecorded) -> None:
        await self.scores_recorded(conn, [(envelope, event)])

    async def learner_results_finalised(self, conn: asyncpg.Connection,
                                     items: Sequence[tuple[Envelope, LearnerResultFinalised]]) -> None:
        """A run of learners' final results: each one's line of the class's report, kept until the class's
        results are final (ClassResultsFinalised comes after them on the class's stream)."""
        await views.save_final_results(conn, [
            (event, kinds.result_line(event, display_name(await self.keyring.open(event.personal))))
            for _, event in items])

    async def result_finalised(self, conn: asyncpg.Connection, envelope: Envelope,
                               event: LearnerResultFinalised) -> None:
        await self.learner_results_finalised(conn, [(envelope, event)])

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
