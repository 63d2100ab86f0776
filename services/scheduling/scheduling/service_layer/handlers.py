"""Scheduling's command handlers: gather what the decision needs, decide on the class aggregate, store it.

Views and bookings are written by `class_views.project` in the transaction that appends the events, so a
refused booking (a clash) appends nothing. A change to an existing class answers the class's version (its ETag)
and, with `if_match`, is made only on the version the client read (ttct.http.conditional).
"""
from __future__ import annotations

from uuid import UUID

import asyncpg
from ttct.contracts import EventMetadata
from ttct.domain.errors import Invalid, NotFound
from ttct.eventsourcing.aggregates import Aggregates, Decide
from ttct.http.conditional import execute_versioned, version_of

from scheduling.adapters import catalogue, class_views, registry
from scheduling.domain import classes as domain
from scheduling.domain.classes import (
    CancelClass,
    ChangePlan,
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


async def _execute(classes: Aggregates[ClassState], class_id: UUID, decide: Decide[ClassState],
                   metadata: EventMetadata, if_match: frozenset[str] | None = None) -> int:
    """Decide on the class and append, with its views; the class's version afterwards."""
    return await execute_versioned(classes, stream_id(class_id), decide, metadata, if_match=if_match,
                                   what=f"class {class_id}", project=class_views.project)


async def version(classes: Aggregates[ClassState], class_id: UUID) -> int:
    """The class's version: its ETag."""
    return await version_of(classes, stream_id(class_id))


async def open_class(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, command: OpenClass,
                     class_id: UUID, metadata: EventMetadata) -> int:
    programme = await _programme(pool, centre, command)
    return await _execute(classes, class_id, lambda s: domain.decide_open(command, class_id, s, programme), metadata)


async def plan_class(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, command: PlanClass,
                     class_id: UUID, metadata: EventMetadata) -> int:
    programme = await _programme(pool, centre, command)
    return await _execute(classes, class_id, lambda s: domain.decide_plan(command, class_id, s, programme), metadata)


async def _in_centre(pool: asyncpg.Pool, centre: str, class_id: UUID) -> dict:
    """The class's view row; a class of another centre is answered as not found."""
    view = await class_views.get_class(pool, centre, class_id)
    if view is None:
        raise NotFound(f"class {class_id} does not exist in this centre",
                       f"Không tìm thấy lớp {class_id} ở trung tâm này", code="class-unknown")
    return view


async def change_class(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, class_id: UUID,
                       action: str, metadata: EventMetadata, command: CancelClass | ChangePlan | None = None,
                       if_match: frozenset[str] | None = None) -> int:
    """open (a planned class) | start | complete | cancel (with CancelClass) | plan (with ChangePlan)."""
    view = await _in_centre(pool, centre, class_id)
    if action == "open":
        code = view["programme_code"]
        programme = await catalogue.get_programme(pool, centre, code) if code else None
        decide = lambda s: domain.decide_open_planned(class_id, s, programme)  # noqa: E731
    elif action == "start":
        decide = lambda s: domain.decide_start(class_id, s)  # noqa: E731
    elif action == "complete":
        decide = lambda s: domain.decide_complete(class_id, s)  # noqa: E731
    elif action == "plan":
        assert isinstance(command, ChangePlan)
        decide = lambda s: domain.decide_change_plan(command, class_id, s)  # noqa: E731
    else:
        assert isinstance(command, CancelClass)
        decide = lambda s: domain.decide_cancel(class_id, s, command)  # noqa: E731
    return await _execute(classes, class_id, decide, metadata, if_match)


async def schedule_session(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, class_id: UUID,
                           command: ScheduleSession, session_id: UUID, metadata: EventMetadata,
                           if_match: frozenset[str] | None = None) -> int:
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
    return await _execute(
        classes, class_id,
        lambda s: domain.decide_schedule(command, class_id, session_id, s, lecturer_name=lecturer["full_name"],
                                         venue_name=venue_name),
        metadata, if_match)


async def cancel_session(classes: Aggregates[ClassState], pool: asyncpg.Pool, centre: str, class_id: UUID,
                         session_id: UUID, metadata: EventMetadata, if_match: frozenset[str] | None = None) -> int:
    await _in_centre(pool, centre, class_id)
    return await _execute(classes, class_id, lambda s: domain.decide_cancel_session(class_id, session_id, s),
                          metadata, if_match)
