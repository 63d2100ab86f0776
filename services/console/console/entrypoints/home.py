"""The centre's home page for a year: the plan's classes by status, this month's classes, and the year's
figures so far (assessment's tally: places, results, pass rate, by programme)."""
from __future__ import annotations

import asyncio
import calendar
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from console import i18n, labels, sessions
from console.adapters.api import Problem
from console.entrypoints.centres import centre_of
from console.views import render
from ttct.domain.names import text_sort_key

router = APIRouter(include_in_schema=False)
_ = i18n.gettext


@router.get("/")
async def home(request: Request, year: int | None = None):
    person = sessions.person(request)
    if person.role == "organisation":  # a sending organisation has pages of its own, no centre's
        return RedirectResponse("/organisation", status_code=303)
    centre = centre_of(request, person)
    if centre is None:
        return RedirectResponse("/centre" if person.role == "province-admin" else "/classes", status_code=303)
    today: date = request.app.state.today()
    year = year if year and 2000 <= year <= 2100 else today.year
    api, base = sessions.api(request), f"/centres/{centre}"
    month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    wanted = [api.get("scheduling", f"{base}/classes", starts_from=f"{year}-01-01", starts_until=f"{year}-12-31"),
              api.get("scheduling", f"{base}/classes", starts_from=today.replace(day=1).isoformat(),
                      starts_until=month_end.isoformat())]
    if person.may("figures:read"):
        wanted.append(api.get("assessment", f"{base}/figures", year=year))
    found = await asyncio.gather(*wanted, return_exceptions=True)
    for outcome in found:
        if isinstance(outcome, BaseException) and not (isinstance(outcome, Problem) and outcome.status in (403, 404)):
            raise outcome
    year_classes, this_month = found[0], sorted(found[1], key=lambda c: (c["starts_on"], text_sort_key(c["title"])))
    figures = found[2] if len(found) > 2 and not isinstance(found[2], BaseException) else None
    by_status = {code: sum(1 for c in year_classes if c["status"] == code) for code in labels.CLASS_STATUSES}
    return render(request, "home.html", year=year, centre=centre, by_status=by_status, this_month=this_month,
                  month=today, figures=figures, labels=labels)
