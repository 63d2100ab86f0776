"""What an enrolment must know before the roster decides, read in one statement: the sending organisation's name
on the day, whom it stands for if it was merged or dissolved by then, and the class's facts. Three lookups of one
row or so each: one round trip instead of three on the busiest command."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from enrolment.adapters.organisations import NAMES
from enrolment.adapters.reorganisation import CHAIN
from enrolment.adapters.views import CLASS_FACTS
from enrolment.domain.reorganisation import Succession
from enrolment.domain.roster import ClassFacts

_ADMISSION = f"""
SELECT array(SELECT row(n.code, n.name) FROM ({NAMES}) n) AS names,
       array(SELECT row(c.code, c.successor_code, c.successor_name, c.effective_on, c.decision_number)
             FROM ({CHAIN}) c) AS successions,
       (SELECT row(f.class_id, f.title, f.capacity, f.cancelled, f.when_full, f.requires_dispatch_decision)
        FROM ({CLASS_FACTS.format(centre="$3", class_id="$4")}) f) AS class
"""


@dataclass(frozen=True)
class Admission:
    names: dict[str, str]  # code -> the name registered on the day
    successions: dict[str, Succession]  # code -> whom it stands for, if merged or dissolved by the day
    facts: ClassFacts | None  # None: a class this centre has not opened


async def admission(db: asyncpg.Pool | asyncpg.Connection, codes: list[str], today: date, centre: str,
                    class_id: UUID) -> Admission:
    """`organisations.names`, `reorganisation.successions` and `views.class_facts` at once."""
    row = await db.fetchrow(_ADMISSION, sorted(set(codes)), today, centre, class_id)
    return Admission(names={code: name for code, name in row["names"]},
                     successions={s[0]: Succession(*s) for s in row["successions"]},
                     facts=ClassFacts(*row["class"]) if row["class"] is not None else None)
