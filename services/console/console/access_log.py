"""The personal-data access log as a centre's staff read it: each service keeps its own (newest first, paged by its
own record numbers); the console merges them into one list, newest first, and pages on through all of them at once.

A page takes up to `size` records from each service asked, shows the newest `size` of them all, and remembers for
each service where its next page starts: after the last of its records shown, or where this page started if none
of them were; a service whose records were all shown and that had fewer than asked for has no more."""
from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from ttct.papers.labels import VIETNAM

from console.labels import N_

SERVICES = {"scheduling": N_("Scheduling"), "enrolment": N_("Enrolment"), "assessment": N_("Assessment"),
            "notification": N_("Notifications")}
ROLES = {"centre-staff": N_("Centre staff"), "lecturer": N_("Lecturer"),
         "province-admin": N_("Province administrator"), "organisation": N_("Sending organisation"),
         "integration": N_("Connected system"), "public": N_("Public page")}
ACTIONS = {"read": N_("Read"), "change": N_("Changed")}
# what the routes that name learners most often are, in the staff's words; any other shows as the route itself
ROUTES = {
    "GET /v1/learners/{learner_id}/record": N_("the learner's record"),
    "GET /v1/centres/{centre}/classes/{class_id}/enrolments": N_("the class's roster"),
    "POST /v1/centres/{centre}/classes/{class_id}/enrolments": N_("enrolment in a class"),
    "GET /v1/centres/{centre}/classes/{class_id}/waiting-list": N_("the class's waiting list"),
    "POST /v1/centres/{centre}/classes/{class_id}/enrolments/{learner_id}/withdraw": N_("withdrawal from a class"),
    "POST /v1/centres/{centre}/classes/{class_id}/enrolments/{learner_id}/transfer": N_("move to another class"),
    "POST /v1/centres/{centre}/classes/{class_id}/enrolments/import": N_("import of an organisation's list"),
    "POST /v1/centres/{centre}/classes/{class_id}/enrolments/batch": N_("import of an organisation's list"),
    "GET /v1/centres/{centre}/classes/{class_id}/class-list": N_("the class list (paper)"),
    "POST /v1/centres/{centre}/learners/{learner_id}/erasure": N_("erasure of the learner's personal data"),
    "GET /v1/centres/{centre}/classes/{class_id}/scores": N_("the class's scores"),
    "POST /v1/centres/{centre}/classes/{class_id}/scores": N_("a score"),
    "POST /v1/centres/{centre}/classes/{class_id}/scores/batch": N_("the class's scores"),
    "POST /v1/centres/{centre}/classes/{class_id}/conduct": N_("a conduct rating"),
    "GET /v1/centres/{centre}/classes/{class_id}/attendance": N_("the class's attendance"),
    "GET /v1/centres/{centre}/classes/{class_id}/sessions/{session_id}/attendance": N_("a session's attendance"),
    "PUT /v1/centres/{centre}/classes/{class_id}/sessions/{session_id}/attendance": N_("a session's attendance"),
}

Cursor = dict[str, int | None]
"""Per service still to be read: before which of its record numbers its next page starts (None: its newest)."""


@dataclass(frozen=True)
class Access:
    service: str
    number: int
    at: datetime
    """in Vietnam's time"""
    caller: str
    role: str
    action: str
    route: str
    learner_ids: tuple[str, ...]
    reason: str | None

    @property
    def route_shown(self) -> str:
        """A route the console has no words for, its placeholders ({centre}, {class_id}) as "…": the path's shape
        is what tells the request, and the placeholders are code, not text for the page's language."""
        return re.sub(r"\{\w+\}", "…", self.route)


def first_page(services: tuple[str, ...]) -> Cursor:
    return dict.fromkeys(services)


def cursor_of(text: str, services: tuple[str, ...]) -> Cursor:
    """A page's place as a link carries it ("enrolment:812,assessment:40"); a part that is not one is left out."""
    cursor: Cursor = {}
    for part in text.split(","):
        service, _, number = part.partition(":")
        if service in services and number.isdigit() and 0 < int(number) < 2**63:
            cursor[service] = int(number)
    return cursor


def cursor_text(cursor: Cursor) -> str:
    return ",".join(f"{service}:{number}" for service, number in cursor.items() if number is not None)


def merged(pages: dict[str, list[dict]], size: int) -> tuple[list[Access], Cursor]:
    """The newest `size` records of the services' pages (each asked for `size`), and where the next page starts."""
    # merged, not sorted: each service's records stay in its own order (of its numbers), so those shown are the
    # first of its page even where two records' times and numbers disagree
    shown = list(islice(heapq.merge(*([_access(service, row) for row in rows] for service, rows in pages.items()),
                                    key=lambda a: a.at, reverse=True), size))
    following: Cursor = {}
    for service, rows in pages.items():
        numbers = [a.number for a in shown if a.service == service]
        if len(numbers) < len(rows):  # some of its records wait for the next page
            following[service] = numbers[-1] if numbers else rows[0]["id"] + 1
        elif len(rows) == size:  # all shown, and there may be more
            following[service] = rows[-1]["id"]
    return shown, following


def _access(service: str, row: dict) -> Access:
    return Access(service=service, number=row["id"],
                  at=datetime.fromisoformat(row["at"]).astimezone(VIETNAM), caller=row["caller"], role=row["role"],
                  action=row["action"], route=row["route"], learner_ids=tuple(row["learner_ids"]),
                  reason=row.get("reason"))
