"""A learner's record across the province (quá trình học tập), as assessment keeps it: every class at every centre
over the years, with its result, conduct and certificate; and assessment's paper and tables to download."""
from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from console import labels, sessions
from console.entrypoints.privacy import may_erase
from console.views import handed_on, render
from ttct.privacy.personal import ERASED

router = APIRouter(include_in_schema=False)


@router.get("/learners/{learner_id}")
async def learner_record(request: Request, learner_id: uuid.UUID):
    person = sessions.person(request)
    found = await sessions.api(request).get("assessment", f"/learners/{learner_id}/record")
    found["classes"].sort(key=lambda r: (r["starts_on"] or "", r["class_title"]), reverse=True)  # latest first
    erased = found["full_name"] == ERASED  # as every service shows a learner whose data were erased on request
    return render(request, "learner.html", record=found, labels=labels, erased=erased,
                  may_erase=may_erase(person) and not erased, flash=request.session.pop("flash", None))


@router.get("/learners/{learner_id}/file")
async def learner_record_file(request: Request, learner_id: uuid.UUID, format: str = "pdf"):
    chosen = format if format in labels.FILE_FORMATS else "pdf"
    return handed_on(await sessions.api(request).download("assessment", f"/learners/{learner_id}/record",
                                                          format=chosen))
