"""The events this service applies, by the context that publishes them (Runtime's `projections`)."""
from __future__ import annotations

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
from ttct.eventsourcing.consumer import Handler

from notification.service_layer.projections import Projections


def projections(p: Projections) -> dict[str, dict[type[DomainEvent], Handler]]:
    return {
        "scheduling": {ClassOpened: p.class_opened, ClassCancelled: p.class_cancelled},
        "enrolment": {SendingOrganisationRegistered: p.organisation_registered, LearnerEnrolled: p.learner_enrolled,
                      LearnerWaitlisted: p.learner_waitlisted, LearnerWithdrawn: p.learner_withdrawn,
                      LearnerErased: p.learner_erased, OrganisationsMerged: p.organisations_merged,
                      OrganisationDissolved: p.organisation_dissolved, OrganisationRenamed: p.organisation_renamed,
                      OrganisationMoved: p.organisation_moved, **centres.HANDLERS},
        "assessment": {ScoreRecorded: p.score_recorded, AttendanceRecorded: p.attendance_recorded,
                       EligibilityLost: p.eligibility_lost, EligibilityRestored: p.eligibility_lost,
                       LearnerResultFinalised: p.result_finalised,
                       ClassResultsFinalised: p.results_finalised},
    }


PROJECTIONS = projections(Projections())  # without email, for tools that only need the handlers' shape
