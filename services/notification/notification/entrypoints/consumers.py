"""The events this service applies, by the context that publishes them (Runtime's `projections`).

The many-a-command events (an organisation's list of enrolments, a class's scores, a session's roll call, a
class's final results) go to batched handlers: the consumer hands each a run of consecutive events, applied in a
few statements instead of a few per event (ttct.eventsourcing.consumer.batched)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from ttct import centres
from ttct.contracts import ClassOpened, DomainEvent, LearnerEnrolled, ScoreRecorded
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
from ttct.eventsourcing.consumer import BatchHandler, Handler, batched

from notification.service_layer.projections import Projections


def _runs(method: Callable[..., Awaitable[None]]) -> BatchHandler:
    """A bound method taking runs, as a batched handler (a bound method takes no attribute; a partial does)."""
    return batched(partial(method))


def projections(p: Projections) -> dict[str, dict[type[DomainEvent], Handler]]:
    placed = _runs(p.learners_placed)  # one handler for both: a roster's runs join
    return {
        "scheduling": {ClassOpened: p.class_opened, ClassCancelled: p.class_cancelled},
        "enrolment": {SendingOrganisationRegistered: p.organisation_registered, LearnerEnrolled: placed,
                      LearnerWaitlisted: placed, LearnerWithdrawn: p.learner_withdrawn,
                      LearnerErased: p.learner_erased, OrganisationsMerged: p.organisations_merged,
                      OrganisationDissolved: p.organisation_dissolved, OrganisationRenamed: p.organisation_renamed,
                      OrganisationMoved: p.organisation_moved, **centres.HANDLERS},
        "assessment": {ScoreRecorded: _runs(p.scores_recorded), AttendanceRecorded: _runs(p.attendances_recorded),
                       EligibilityLost: p.eligibility_lost, EligibilityRestored: p.eligibility_lost,
                       LearnerResultFinalised: _runs(p.learner_results_finalised),
                       ClassResultsFinalised: p.results_finalised},
    }


PROJECTIONS = projections(Projections())  # without email, for tools that only need the handlers' shape
