"""The events this service applies, by the context that publishes them (Runtime's `projections`)."""
from __future__ import annotations

from ttct.consumer import Handler
from ttct.contracts import ClassOpened, DomainEvent, LearnerEnrolled, ScoreRecorded

from notification.service_layer import projections

PROJECTIONS: dict[str, dict[type[DomainEvent], Handler]] = {
    "scheduling": {ClassOpened: projections.class_opened},
    "enrolment": {LearnerEnrolled: projections.learner_enrolled},
    "assessment": {ScoreRecorded: projections.score_recorded},
}
