"""The class's score sheet (bảng điểm): every learner's score in each component of the class's scheme, and once
the results are final, the final score, grade and outcome."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID

from ttct.papers import labels
from ttct.papers.model import FILED, Column, Paper, Sheet, Text, Workbook
from ttct.papers.settings import CentreProfile

from assessment.domain.facts import LearnerInClass
from assessment.domain.schemes import Scheme
from assessment.papers.attendance import by_name

TITLE = "Bảng điểm"
COMPONENTS = {"final": "Kiểm tra cuối khóa"}  # the default scheme's one component; others print as named


def _component(name: str, weight) -> str:
    share = weight * 100
    return f"{COMPONENTS.get(name, name)} ({share:.0f}%)" if share == share.to_integral() else \
        f"{COMPONENTS.get(name, name)} ({share:.1f}%)".replace(".", ",")


def _note(final: dict | None) -> str:
    if final is None:
        return ""
    if not final["eligible"]:
        return "Không đủ điều kiện dự thi"
    return "Đạt" if final["passed"] else "Không đạt"


def sheet(scheme: Scheme, learners: Sequence[LearnerInClass], scores: Mapping[tuple[UUID, str], object],
          finals: Mapping[UUID, dict]) -> Sheet:
    """`scores`: (learner, component) → score; `finals`: learner → final result (empty until finalised)."""
    components = scheme.rules.components
    columns = (Column("STT", 0.5, "int", "center"), Column("Mã học viên", 2.6, outputs=FILED),
               Column("Họ và tên", 2.4), Column("Mã đơn vị", 1.4, outputs=FILED), Column("Đơn vị", 2.0),
               *(Column(_component(c.name, c.weight), 1.0, "score", "center") for c in components),
               Column("Điểm tổng kết", 1.0, "score", "center"), Column("Xếp loại", 1.1, align="center"),
               Column("Kết quả", 1.6, align="center"))
    rows = []
    for i, l in enumerate(by_name(learners), 1):
        final = finals.get(l.learner_id)
        rows.append((i, l.learner_id, l.full_name, l.sending_organisation.code, l.sending_organisation.name,
                     *(scores.get((l.learner_id, c.name)) for c in components),
                     final["final_score"] if final else None, labels.grade(final["grade_band"]) if final else "",
                     _note(final)))
    return Sheet(TITLE, columns, tuple(rows))


def score_sheet(centre: CentreProfile, on: date, the_class: dict, scheme: Scheme, learners: Sequence[LearnerInClass],
                scores: Mapping[tuple[UUID, str], object], finals: Mapping[UUID, dict]) -> Paper:
    state = "Kết quả đã được chốt." if finals else "Kết quả chưa được chốt: điểm tổng kết có khi đủ điểm các phần."
    return Paper(heading=centre.heading(on, "BĐ/TTCT"), title=TITLE,
                 lines=(*labels.class_lines(the_class["title"], the_class["programme_type"], the_class["starts_on"],
                                            the_class["ends_on"]), f"Hình thức đánh giá: {scheme.ref}"),
                 body=(sheet(scheme, learners, scores, finals), Text(state, "note")),
                 signatures=(centre.signature(),), recipients=("Lưu VP.",), landscape=True,
                 subject=f"{TITLE} – {the_class['title']}")


def score_book(the_class: dict, scheme: Scheme, learners: Sequence[LearnerInClass],
               scores: Mapping[tuple[UUID, str], object], finals: Mapping[UUID, dict]) -> Workbook:
    return Workbook(f"{TITLE} – {the_class['title']}", (sheet(scheme, learners, scores, finals),))
