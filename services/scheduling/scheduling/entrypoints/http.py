"""Scheduling's HTTP API: thin routes that parse, delegate to the service layer and read views."""
from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel

from ttct.auth import Principal, centre_access
from ttct.contracts.envelope import Code
from ttct.contracts.types import ProgrammeType
from ttct.errors import NotFound
from ttct.http import command_metadata

from scheduling.adapters import class_views
from scheduling.domain.classes import OpenClass
from scheduling.service_layer import handlers

router = APIRouter(prefix="/v1/centres/{centre}", tags=["classes"])


class ClassView(BaseModel):
    class_id: UUID
    centre: str
    programme_type: ProgrammeType
    title: str
    capacity: int
    starts_on: date
    ends_on: date
    venue: str
    status: str
    opened_at: datetime


def _not_found(class_id: UUID) -> NotFound:
    return NotFound(f"class {class_id} does not exist in this centre", f"Không tìm thấy lớp {class_id} ở trung tâm này")


@router.post("/classes", status_code=201, response_model=ClassView, summary="Open a class for enrolment")
async def open_class(centre: Code, command: OpenClass, request: Request,
                    _caller: Principal = centre_access("classes:write")) -> ClassView:
    runtime = request.app.state.runtime
    class_id = runtime.new_id()
    metadata = command_metadata(request, runtime.settings.province_code, centre)
    await handlers.open_class(request.app.state.classes, command, class_id, metadata)
    view = await class_views.get_class(runtime.pool, centre, class_id)
    return ClassView.model_validate(view)


@router.get("/classes", response_model=list[ClassView], summary="The centre's classes")
async def list_classes(centre: Code, request: Request,
                      _caller: Principal = centre_access("classes:read")) -> list[ClassView]:
    rows = await class_views.list_classes(request.app.state.runtime.pool, centre)
    return [ClassView.model_validate(r) for r in rows]


@router.get("/classes/{class_id}", response_model=ClassView, summary="One class")
async def get_class(centre: Code, class_id: UUID, request: Request,
                   _caller: Principal = centre_access("classes:read")) -> ClassView:
    view = await class_views.get_class(request.app.state.runtime.pool, centre, class_id)
    if view is None:
        raise _not_found(class_id)
    return ClassView.model_validate(view)
