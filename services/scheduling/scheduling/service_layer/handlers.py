"""Scheduling's command handlers: translate a command into a decision on the aggregate and store it."""
from __future__ import annotations

from uuid import UUID

from ttct.aggregates import Aggregates
from ttct.contracts import EventMetadata

from scheduling.adapters import class_views
from scheduling.domain.classes import ClassState, OpenClass, decide_open, stream_id


async def open_class(classes: Aggregates[ClassState], command: OpenClass, class_id: UUID,
                     metadata: EventMetadata) -> None:
    await classes.execute(stream_id(class_id), lambda state: decide_open(command, class_id, state), metadata,
                          project=class_views.project)
