"""Scheduling's command handlers: gather what the decision needs, decide on the class aggregate, store it.

Views and bookings are written by `class_views.project` in the transaction that appends the events, so a
refused booking (a clash) appends nothing.
"""
from __future__ import annotations

from uuid import UUID

import asyncpg
from ttct.aggregates import Aggregates
from ttct.contracts import EventMetadata
from ttct.errors import Invalid, NotFound

from scheduling.adapters import catalogue, class_views, registry
from scheduling.domain import classes as domain
from scheduling.domain.classes import (
    CancelClass,
    ClassState,
    OpenClass,
    PlanClass,
    ScheduleSession,
    stream_id,
)
from scheduling.domain.programmes import Programme, default_code, programme_for_class


async def _programme(pool: asyncpg.Pool, centre: str, command: OpenClass) -> Programme:
    code = command.programme_code or default_code(command.programme_type)
    return programme_for_class(command.programme_type, await catalogue.get_programme(pool, centre, code),
                               command.programme_code)


async def open_class(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, command: OpenClass,
                     class_id: UUID, metadata: EventMetadata) -> None:
    programme = await _programme(pool, centre, command)
    await classes.execute(stream_id(class_id), lambda s: domain.decide_open(command, class_id, s, programme),
                          metadata, project=class_views.project)


async def plan_class(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, command: PlanClass,
                     class_id: UUID, metadata: EventMetadata) -> None:
    programme = await _programme(pool, centre, command)
    await classes.execute(stream_id(class_id), lambda s: domain.decide_plan(command, class_id, s, programme),
                          metadata, project=class_views.project)


async def _in_centre(pool: asyncpg.Pool, centre: str, class_id: UUID) -> dict:
    """The class's view row; a class of another centre is answered as not found."""
    view = await class_views.get_class(pool, centre, class_id)
    if view is None:
        raise NotFound(f"class {class_id} does not exist in this centre",
                       f"Không tìm thấy lớp {class_id} ở trung tâm này", code="class-unknown")
    return view


async def change_class(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, class_id: UUID,
                       action: str, metadata: EventMetadata, cancel: CancelClass | None = None) -> None:
    """open (a planned class) | start | complete | cancel."""
    view = await _in_centre(pool, centre, class_id)
    if action == "open":
        code = view["programme_code"]
        programme = await catalogue.get_programme(pool, centre, code) if code else None
        decide = lambda s: domain.decide_open_planned(class_id, s, programme)  # noqa: E731
    elif action == "start":
        decide = lambda s: domain.decide_start(class_id, s)  # noqa: E731
    elif action == "complete":
        decide = lambda s: domain.decide_complete(class_id, s)  # noqa: E731
    else:
        assert cancel is not None
        decide = lambda s: domain.decide_cancel(class_id, s, cancel)  # noqa: E731
    await classes.execute(stream_id(class_id), decide, metadata, project=class_views.project)


async def schedule_session(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, class_id: UUID,
                           command: ScheduleSession, session_id: UUID, metadata: EventMetadata) -> None:
    await _in_centre(pool, centre, class_id)
    lecturer = await registry.get_lecturer(pool, command.lecturer_id)
    if lecturer is None:
        raise Invalid(f"no lecturer {command.lecturer_id} in the province's register",
                      f"Không có giảng viên {command.lecturer_id} trong danh sách giảng viên của tỉnh",
                      code="lecturer-unknown")
    venue_name = None
    if command.venue_id is not None:
        venue = await registry.get_venue(pool, centre, command.venue_id)
        if venue is None:
            raise Invalid(f"the centre has no venue {command.venue_id}",
                          f"Trung tâm không có địa điểm {command.venue_id}", code="venue-unknown")
        venue_name = venue["name"]
    await classes.execute(
        stream_id(class_id),
        lambda s: domain.decide_schedule(command, class_id, session_id, s, lecturer_name=lecturer["full_name"],
                                         venue_name=venue_name),
        metadata, project=class_views.project)


async def cancel_session(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, class_id: UUID,
                         session_id: UUID, metadata: EventMetadata) -> None:
    await _in_centre(pool, centre, class_id)
    await classes.execute(stream_id(class_id), lambda s: domain.decide_cancel_session(class_id, session_id, s),
                          metadata, project=class_views.project)
