"""A class's scores in one component: the whole class on one grid, sent to assessment in one request (all the
scores typed are stored, or none and the page says which to put right)."""
from __future__ import annotations

import asyncio
import re
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, sessions
from console.adapters.api import Api, Problem
from console.entrypoints.centres import centre_of
from console.entrypoints.forms import FormErrors
from console.views import render
from ttct.domain.names import name_sort_key

router = APIRouter(include_in_schema=False)
_ = i18n.gettext
COMPONENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")  # a scheme's component name; "final" in the default scheme
LEARNER_FIELD = re.compile(r"^score-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _written(score: float | str) -> str:
    """A score as it is written here: one decimal, a decimal comma (8,5)."""
    return f"{float(score):.1f}".replace(".", ",")


def _component(asked: str) -> str:
    return asked if COMPONENT.match(asked) else "final"


async def _recorded(api: Api, base: str) -> list[dict]:
    try:
        return await api.get("assessment", f"{base}/scores")
    except Problem as refused:  # assessment learns of a new class from its events, a moment after scheduling
        if refused.status not in (404, 409):
            raise
        return []


async def _grid(api: Api, centre: str, class_id: uuid.UUID, component: str) -> dict:
    base = f"/centres/{centre}/classes/{class_id}"
    # three services, asked at once: the page waits for the slowest, not for the sum
    the_class, roster, recorded = await asyncio.gather(
        api.get("scheduling", base), api.get("enrolment", f"{base}/enrolments"), _recorded(api, base))
    roster.sort(key=lambda r: name_sort_key(r["full_name"]))
    components = sorted({s["component"] for s in recorded} | {"final", component})
    scores = {s["learner_id"]: s for s in recorded if s["component"] == component}
    return {"c": the_class, "roster": roster, "scores": scores, "component": component, "components": components}


@router.get("/classes/{class_id}/scores")
async def score_grid(request: Request, class_id: uuid.UUID, component: str = "final"):
    person = sessions.person(request)
    grid = await _grid(sessions.api(request), centre_of(request, person), class_id, _component(component))
    typed = {learner: _written(s["score"]) for learner, s in grid["scores"].items()}
    return render(request, "scores.html", **grid, typed=typed, errors=FormErrors(()), key=str(uuid.uuid4()),
                  flash=request.session.pop("flash", None))


@router.post("/classes/{class_id}/scores")
async def record_scores(request: Request, class_id: uuid.UUID, component: str = "final"):
    person = sessions.person(request)
    form = await sessions.check_csrf(request)
    centre, api, component = centre_of(request, person), sessions.api(request), _component(component)
    # The grid's own fields say whose scores were typed: assessment refuses a learner who is not in the class, so
    # a save reads nothing first; the roster is read only to show a refused grid again, with the learners' names.
    typed = {field.removeprefix("score-"): str(value).strip() for field, value in form.items()
             if field.startswith("score-") and LEARNER_FIELD.match(field)}
    # a decimal comma is how scores are written here (8,5): the service reads a point
    sent = [(learner, score.replace(",", ".")) for learner, score in typed.items() if score]
    problem = None
    if sent:
        try:
            await api.post("assessment", f"/centres/{centre}/classes/{class_id}/scores/batch",
                           {"component": component, "scores": [{"learner_id": l, "score": s} for l, s in sent]},
                           idempotency_key=str(form.get("key") or uuid.uuid4()))
        except Problem as refused:
            if refused.status not in (404, 409, 422):
                raise
            problem = refused
        else:
            request.session["flash"] = _("The scores have been saved.")
            return RedirectResponse(f"{request.url.path}?component={component}", status_code=303)
    grid = await _grid(api, centre, class_id, component)
    errors = FormErrors(tuple(f"score-{r['learner_id']}" for r in grid["roster"]))
    if problem is None:
        errors.general.append(_("Enter at least one score."))
    else:
        names = {r["learner_id"]: r["full_name"] for r in grid["roster"]}
        rows = {f"scores.{i}": f"score-{learner}" for i, (learner, _s) in enumerate(sent)}
        for error in problem.errors:  # e.g. body.scores.3.score: the fourth score sent
            row = rows.get(".".join(str(error.get("field", "")).removeprefix("body.").split(".")[:2]))
            if row and row.removeprefix("score-") in names:
                errors.add(row, _("Enter {name}'s score from 0 to 10, with at most one decimal").format(
                    name=names[row.removeprefix("score-")]))
        if not errors:
            errors.general.append(problem.detail_vi if i18n.current.get() == "vi" and problem.detail_vi
                                  else problem.detail)
    return render(request, "scores.html", status=422, **grid, typed=typed, errors=errors, key=str(uuid.uuid4()))
