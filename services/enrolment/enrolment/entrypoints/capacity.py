"""A class's seats: how many it has now, and the centre changing them (which may promote waiting learners).

The capacity lives on the class's roster, where the seats taken are, so its ETag is the roster's version, as
the quotas' is: any enrolment, withdrawal or quota change in the class makes an earlier ETag stale.
"""
from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field
from ttct.contracts.envelope import Code
from ttct.domain.versions import if_match_tags
from ttct.http.auth import Principal, centre_access
from ttct.http.conventions import CONDITIONAL, IF_MATCH_DESCRIPTION, READ, etag
from ttct.http.pagination import DEFAULT_LIMIT

from enrolment.adapters import views
from enrolment.domain.roster import ChangeCapacity
from enrolment.entrypoints.http import (EnrolmentView, Promotion, QuotaView, WaitingView, _known, _metadata,
                                        _promotions)
from enrolment.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}/classes/{class_id}", tags=["capacity"], responses=READ)
LIST_LIMIT = DEFAULT_LIMIT  # the largest class
_ETAG = {"ETag": {"description": "the class roster's version: send it as If-Match to change the capacity safely",
                  "schema": {"type": "string"}}}


class CapacityView(BaseModel):
    capacity: int = Field(description="the class's seats now (as it opened, or as the centre last changed them)")
    seats_taken: int
    waiting: int = Field(description="learners on the waiting list")
    when_full: Literal["waiting-list", "refuse"] = Field(description="what happens to a learner who finds every "
                                                         "seat taken (set when the class was planned or opened)")


class CapacityChange(BaseModel):
    capacity: int
    promoted: list[Promotion] = Field(description="learners promoted from the waiting list into the new seats")


@router.get("/capacity", response_model=CapacityView,
            responses={200: {"description": "the class's seats", "headers": _ETAG},
                       404: {**READ[404], "description": "no class open for enrolment by this id at this centre "
                                                         "(class-unknown), as on the roster's reads"}},
            summary="The class's capacity, seats taken and waiting learners (with ETag)")
async def get_capacity(centre: Code, class_id: UUID, request: Request, response: Response,
                       _caller: Principal = centre_access("enrolments:read")) -> CapacityView:
    await _known(request, centre, class_id)  # a class enrolment has not heard of is absent, as on the roster's reads
    found, version = await handlers.capacity(request.app.state.runtime.pool, request.app.state.rosters, centre,
                                             class_id)
    response.headers["ETag"] = etag(version)
    return CapacityView(capacity=found.capacity, seats_taken=found.seats_taken, waiting=found.waiting,
                        when_full=found.when_full)


class RosterAtAGlance(BaseModel):
    """What a class's page shows of its roster, read in one request instead of four."""

    seats: CapacityView
    enrolments: list[EnrolmentView] = Field(description="the seated learners, by seat (as GET …/enrolments)")
    waiting_list: list[WaitingView] = Field(description="the waiting list in order (as GET …/waiting-list)")
    quotas: list[QuotaView] = Field(description="each organisation's quota, seats held and learners waiting (as "
                                                "GET …/quotas)")


@router.get("/roster", response_model=RosterAtAGlance, tags=["enrolments"],
            responses={200: {"description": "the class's roster at a glance", "headers": _ETAG},
                       404: {**READ[404], "description": "no class open for enrolment by this id at this centre "
                                                         "(class-unknown), as on the roster's reads"}},
            summary="The class's roster at a glance: its seats, the seated learners, the waiting list and each "
                    "organisation's quota in one answer (a class's page); whole lists, as a class holds at most "
                    "5,000 (a longer waiting list: page through GET …/waiting-list); ETag: the roster's version")
async def roster_at_a_glance(centre: Code, class_id: UUID, request: Request, response: Response,
                             _caller: Principal = centre_access("enrolments:read")) -> RosterAtAGlance:
    await _known(request, centre, class_id)
    pool = request.app.state.runtime.pool
    # the version first (with the seats), then the rows: a change in between makes the ETag stale, never too new
    found, version = await handlers.capacity(pool, request.app.state.rosters, centre, class_id)
    seated = await views.roster(pool, centre, class_id, limit=LIST_LIMIT)
    waiting = await views.waiting_list(pool, centre, class_id, limit=LIST_LIMIT)
    quotas = await views.quotas(pool, centre, class_id, limit=LIST_LIMIT)
    response.headers["ETag"] = etag(version)
    return RosterAtAGlance(
        seats=CapacityView(capacity=found.capacity, seats_taken=found.seats_taken, waiting=found.waiting,
                           when_full=found.when_full),
        enrolments=[EnrolmentView.model_validate(r) for r in seated],
        waiting_list=[WaitingView.model_validate(r) for r in waiting],
        quotas=[QuotaView.model_validate(r) for r in quotas])


@router.put("/capacity", response_model=CapacityChange,
            responses={**CONDITIONAL, 200: {"description": "the capacity as set", "headers": _ETAG},
                       409: {**CONDITIONAL[409], "description": "fewer seats than those taken "
                             "(capacity-below-seats-taken), or the class unknown or cancelled"}},
            summary="Change the class's capacity: never below the seats taken; raising it promotes learners "
                    "from the waiting list in order; If-Match (the roster's ETag) makes it conditional")
async def change_capacity(centre: Code, class_id: UUID, command: ChangeCapacity, request: Request,
                          response: Response,
                          if_match: str | None = Header(None, max_length=200, description=IF_MATCH_DESCRIPTION),
                          _caller: Principal = centre_access("enrolments:write")) -> CapacityChange:
    runtime = request.app.state.runtime
    events, version = await handlers.change_capacity(runtime.pool, request.app.state.rosters, centre, class_id,
                                                     command, _metadata(request, centre),
                                                     if_match=if_match_tags(if_match))
    response.headers["ETag"] = etag(version)
    return CapacityChange(capacity=command.capacity, promoted=await _promotions(request, events))
