"""Bulk import of an organisation's list of learners: row validation and the import decision, both pure.

`check_rows` turns raw rows (from CSV, XLSX or JSON, headers as typed by people) into enrolment commands or
row-level problems: missing fields, malformed dates, invalid ids, duplicates of an earlier row of the same file.
`registered_in` resolves each row's organisation code against the province's directory (an unregistered code is
an error of that row). `decide_import` then takes every valid row against the roster at once, in file order, so
that the whole list is one append on the class's stream; a row whose learner already holds a seat or a waiting
place reports so and changes nothing, which makes importing the same file twice harmless.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Literal
from uuid import UUID

from pydantic import ValidationError
from ttct.contracts import DomainEvent, LearnerEnrolled
from ttct.contracts.types import DispatchDecision, Gender, SealedPersonalData, SendingOrganisation
from ttct.domain.errors import Rejected

from enrolment.domain import decisions
from enrolment.domain.organisations import OrganisationRef, not_registered
from enrolment.domain.reorganisation import Succession, succeeded
from enrolment.domain.roster import (
    ClassFacts,
    DraftRoster,
    EnrolLearner,
    Member,
    Roster,
    birth_date_problem,
    decide_admit,
    dispatch_decision_problem,
    identity_key,
    party_admission_problem,
    wait_reason,
)

MAX_ROWS = 5000

_ALIASES = {
    "full_name": ("full_name", "name", "ho_va_ten", "ho_ten", "hoten", "ho_va_ten_hoc_vien"),
    "date_of_birth": ("date_of_birth", "dob", "birth_date", "ngay_sinh", "ngay_thang_nam_sinh"),
    "national_id": ("national_id", "cccd", "so_cccd", "can_cuoc", "so_can_cuoc", "cmnd", "so_dinh_danh"),
    "party_card_number": ("party_card_number", "party_card", "so_the_dang", "so_the_dang_vien", "the_dang_vien"),
    "organisation_code": ("organisation_code", "organization_code", "ma_don_vi", "ma_dv"),
    "organisation_name": ("organisation_name", "organization_name", "don_vi", "ten_don_vi", "don_vi_cu"),
    "decision_number": ("decision_number", "so_quyet_dinh", "so_qd", "quyet_dinh_so", "quyet_dinh_cu_di_hoc"),
    "decision_date": ("decision_date", "ngay_quyet_dinh", "ngay_qd", "ngay_ky", "ngay_ky_quyet_dinh"),
    "decision_signer": ("decision_signer", "nguoi_ky", "co_quan_ban_hanh", "noi_ban_hanh", "don_vi_ban_hanh"),
    "gender": ("gender", "sex", "gioi_tinh", "gioi", "nam_nu"),
    "position": ("position", "chuc_vu", "chuc_danh", "chuc_vu_hien_nay"),
    "party_admitted_on": ("party_admitted_on", "ngay_vao_dang", "ngay_ket_nap_dang", "ngay_ket_nap",
                          "ngay_vao_dang_chinh_thuc"),
}
_CANONICAL = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}


@lru_cache(maxsize=1024)  # a list's few headers and genders, folded once per list instead of once per cell
def _folded(text: str) -> str:
    """Without case, accents or punctuation: "Ngày vào Đảng" → ngay_vao_dang."""
    text = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").casefold()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def canonical_header(header: object) -> str | None:
    """A column's field, whatever the case, accents or spacing people typed it with ("Họ và tên" → full_name)."""
    return _CANONICAL.get(_folded(str(header or "")))


@dataclass(frozen=True)
class RowProblem:
    field: str
    code: str  # missing-field | malformed-date | invalid-field | duplicate-row | organisation-not-registered |
    # dispatch-decision-required | dispatch-decision-differs | organisation-succeeded
    detail: str
    detail_vi: str


@dataclass(frozen=True)
class CheckedRow:
    row: int  # as people count it: the file's line (header = 1) or the batch's index from 1
    command: EnrolLearner | None
    problems: tuple[RowProblem, ...] = ()
    organisation: SendingOrganisation | None = None  # the command's, as the directory names it (`registered_in`)


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # what JSON lists send: read without strptime's regex machinery


def parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if _ISO_DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass  # e.g. 2024-02-30: the formats below say so alike
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a spreadsheet cell (an id) comes back as a float
    text = str(value).strip()
    return text or None


_LABELS = {"full_name": ("full name", "họ và tên"), "date_of_birth": ("date of birth", "ngày sinh"),
           "national_id": ("national ID", "số CCCD"), "party_card_number": ("party card number", "số thẻ đảng viên"),
           "organisation_code": ("organisation code", "mã đơn vị"),
           "organisation_name": ("organisation name", "tên đơn vị"),
           "decision_number": ("dispatch decision number", "số quyết định cử đi học"),
           "decision_date": ("dispatch decision date", "ngày ký quyết định cử đi học"),
           "decision_signer": ("dispatch decision signer", "người ký quyết định cử đi học"),
           "gender": ("gender", "giới tính"), "position": ("position", "chức vụ"),
           "party_admitted_on": ("date of party admission", "ngày vào Đảng")}
_GENDERS = {"nam": Gender.male, "male": Gender.male, "m": Gender.male,
            "nu": Gender.female, "female": Gender.female, "f": Gender.female}
_DECISION = {"decision_number": "number", "decision_date": "signed_on", "decision_signer": "signer"}


def _missing(name: str) -> RowProblem:
    en, vi = _LABELS[name]
    return RowProblem(name, "missing-field", f"{en} is missing", f"Thiếu {vi}")


def _decision(values: Mapping[str, object], default: DispatchDecision | None,
              problems: list[RowProblem]) -> DispatchDecision | dict | None:
    """The row's dispatch decision: its own columns if it fills any (all three then), else the list's."""
    given = {column: values.get(column) for column in _DECISION}
    if all(v is None for v in given.values()):
        return default
    for column, value in given.items():
        if value is None:
            problems.append(_missing(column))
    signed = given["decision_date"]
    if signed is not None and (signed := parse_date(signed)) is None:
        problems.append(RowProblem("decision_date", "malformed-date",
                                   f"dispatch decision date {given['decision_date']!s} is not a date (use DD/MM/YYYY "
                                   "or YYYY-MM-DD)",
                                   f"Ngày ký quyết định {given['decision_date']!s} không đúng định dạng (dd/mm/yyyy "
                                   "hoặc yyyy-mm-dd)"))
    return {"number": given["decision_number"], "signed_on": signed, "signer": given["decision_signer"]}


def _gender(value: object, problems: list[RowProblem]) -> Gender | None:
    if value is None:
        return None
    found = _GENDERS.get(_folded(str(value)))
    if found is None:
        problems.append(RowProblem("gender", "invalid-field", f"gender {value!s} is neither male nor female (Nam, Nữ)",
                                   f"Giới tính {value!s} không hợp lệ: ghi Nam hoặc Nữ"))
    return found


def _admission(value: object, born: date | None, on: date, problems: list[RowProblem]) -> date | None:
    if value is None:
        return None
    admitted = parse_date(value)
    if admitted is None:
        problems.append(RowProblem("party_admitted_on", "malformed-date",
                                   f"date of party admission {value!s} is not a date (use DD/MM/YYYY or YYYY-MM-DD)",
                                   f"Ngày vào Đảng {value!s} không đúng định dạng (dd/mm/yyyy hoặc yyyy-mm-dd)"))
    elif born is not None and (implausible := party_admission_problem(born, admitted, on)) is not None:
        problems.append(RowProblem("party_admitted_on", "implausible-date", *implausible))
    return admitted


def _check_one(row: int, raw: Mapping[str, object], default: OrganisationRef | None, on: date,
               decision: DispatchDecision | None = None) -> CheckedRow:
    values: dict[str, object] = {}
    for header, cell in raw.items():
        name = canonical_header(header)
        value = cell if isinstance(cell, date) else _text(cell)
        if name is not None and (value is not None or name not in values):  # two columns for one field: the filled one
            values[name] = value
    problems: list[RowProblem] = []
    full_name = values.get("full_name")
    if full_name is None:
        problems.append(_missing("full_name"))
    birth = values.get("date_of_birth")
    born: date | None = None
    if birth is None:
        problems.append(_missing("date_of_birth"))
    elif (born := parse_date(birth)) is None:
        problems.append(RowProblem("date_of_birth", "malformed-date",
                                   f"date of birth {birth!s} is not a date (use DD/MM/YYYY or YYYY-MM-DD)",
                                   f"Ngày sinh {birth!s} không đúng định dạng (dd/mm/yyyy hoặc yyyy-mm-dd)"))
    elif (implausible := birth_date_problem(born, on)) is not None:
        problems.append(RowProblem("date_of_birth", "implausible-date", *implausible))
    code = values.get("organisation_code") or (default.code if default else None)
    if code is None:
        problems.append(_missing("organisation_code"))
    cited = _decision(values, decision, problems)
    gender, admitted = _gender(values.get("gender"), problems), _admission(values.get("party_admitted_on"), born, on,
                                                                           problems)
    if problems:
        return CheckedRow(row, None, tuple(problems))
    try:
        command = EnrolLearner(full_name=full_name, date_of_birth=born,
                               sending_organisation={"code": code},
                               national_id=values.get("national_id"), party_card_number=values.get("party_card_number"),
                               dispatch_decision=cited, gender=gender, position=values.get("position"),
                               party_admitted_on=admitted)
    except ValidationError as exc:
        for error in exc.errors():
            where = str(error["loc"][0]) if error["loc"] else "row"
            where = {"sending_organisation": "organisation_" + str(error["loc"][-1]),
                     "dispatch_decision": {v: k for k, v in _DECISION.items()}.get(str(error["loc"][-1]),
                                                                                  "decision_number")}.get(where, where)
            label = _LABELS.get(where, (where, where))
            problems.append(RowProblem(where, "invalid-field", f"{label[0]}: {error['msg']}",
                                       f"{label[1]} không hợp lệ"))
        return CheckedRow(row, None, tuple(problems))
    return CheckedRow(row, command)


def check_rows(raws: Sequence[Mapping[str, object]], default: OrganisationRef | None, *, on: date,
               first_row: int = 2, decision: DispatchDecision | None = None) -> list[CheckedRow]:
    """Validate every row for an enrolment on day `on`; a row naming the same person (same identity key) as an
    earlier one is a duplicate. `decision`: the list's dispatch decision, for rows that cite none of their own."""
    seen: dict[str, int] = {}
    checked = []
    for i, raw in enumerate(raws):
        if all(_text(v) is None for v in raw.values()):
            continue  # blank lines in a spreadsheet are not rows
        row = _check_one(first_row + i, raw, default, on, decision)
        if row.command is not None:
            k = identity_key(row.command)
            if k in seen:
                row = CheckedRow(row.row, None, (RowProblem(
                    "row", "duplicate-row", f"the same learner as row {seen[k]}",
                    f"Trùng học viên với dòng {seen[k]}"),))
            else:
                seen[k] = row.row
        checked.append(row)
    return checked


def registered_in(rows: Sequence[CheckedRow], directory: Mapping[str, str],
                  successions: Mapping[str, Succession] | None = None) -> list[CheckedRow]:
    """The rows with their organisations as the directory (code -> registered name) names them; a row naming an
    unregistered code, or one merged or dissolved by now (`successions`), is an error of that row (a name the row
    gives is not used: the directory's is)."""
    resolved = []
    for row in rows:
        if row.command is not None:
            code = row.command.sending_organisation.code
            if successions and code in successions:
                row = CheckedRow(row.row, None, (RowProblem("organisation_code", "organisation-succeeded",
                                                            *succeeded(successions[code])),))
            elif code in directory:
                row = replace(row, organisation=SendingOrganisation(code=code, name=directory[code]))
            else:
                row = CheckedRow(row.row, None, (RowProblem("organisation_code", "organisation-not-registered",
                                                            *not_registered(code)),))
        resolved.append(row)
    return resolved


def consistent_decisions(rows: Sequence[CheckedRow],
                         recorded: Mapping[tuple[str, str], Mapping[str, object]]) -> list[CheckedRow]:
    """The rows, a row citing a dispatch decision number that is recorded (or cited by an earlier row of the list)
    with another day or signer being an error of that row (`decisions.conflict`)."""
    known: dict[tuple[str, str], object] = dict(recorded)
    checked = []
    for row in rows:
        cited = row.command.dispatch_decision if row.command is not None else None
        if cited is not None:
            code = row.command.sending_organisation.code
            problem = decisions.conflict(code, cited, known.get(decisions.key(code, cited)))
            if problem is not None:
                row = CheckedRow(row.row, None, (RowProblem("decision_number", "dispatch-decision-differs",
                                                            *problem),))
            else:
                known.setdefault(decisions.key(code, cited), cited)
        checked.append(row)
    return checked


Status = Literal["enrolled", "waitlisted", "already-enrolled", "already-waiting", "error"]


@dataclass(frozen=True)
class RowOutcome:
    row: int
    status: Status
    full_name: str | None = None
    learner_id: UUID | None = None
    seat_number: int | None = None
    position: int | None = None
    reason: str | None = None  # why a learner waits: class-full | over-quota
    problems: tuple[RowProblem, ...] = field(default=())


def decide_import(rows: Sequence[CheckedRow], learner_ids: Mapping[int, UUID],
                  sealed: Mapping[int, SealedPersonalData], facts: ClassFacts,
                  roster: Roster, profiles: Mapping[int, SealedPersonalData] | None = None,
                  ) -> tuple[list[DomainEvent], list[RowOutcome]]:
    """Every valid row against the roster in file order: the events to append at once, and what each row did.

    `learner_ids` maps a valid row to its learner, `sealed` to its learner's personal data sealed with their key,
    `profiles` (rows that give any) to their profile sealed likewise.
    A preflight runs the same decision and appends nothing. The rows are decided on a draft of the roster that
    each admitted row changes in place: a frozen roster evolved per row would be copied once per row.
    """
    draft = DraftRoster(roster)
    events: list[DomainEvent] = []
    outcomes: list[RowOutcome] = []
    for row in rows:
        if row.command is None:
            outcomes.append(RowOutcome(row.row, "error", problems=row.problems))
            continue
        c = row.command
        assert row.organisation is not None, "rows are resolved against the directory first (registered_in)"
        member = Member(learner_ids[row.row], sealed[row.row], row.organisation, c.dispatch_decision,
                        (profiles or {}).get(row.row))
        if not draft.holds(member.learner_id) and (
                problem := dispatch_decision_problem(facts, member.dispatch_decision)) is not None:
            outcomes.append(RowOutcome(row.row, "error", c.full_name, problems=(
                RowProblem("decision_number", "dispatch-decision-required", *problem),)))
            continue
        try:
            reason = wait_reason(facts, draft, member.organisation)
            [event] = decide_admit(member, facts, draft)
        except Rejected as refused:
            if refused.code not in ("already-enrolled", "already-waiting"):
                raise
            outcomes.append(RowOutcome(row.row, refused.code, c.full_name, member.learner_id,  # type: ignore[arg-type]
                                       seat_number=draft.seated[member.learner_id][1]
                                       if member.learner_id in draft.seated else None,
                                       position=draft.waiting_position(member.learner_id)))
            continue
        events.append(event)
        draft.apply(event)
        if isinstance(event, LearnerEnrolled):
            outcomes.append(RowOutcome(row.row, "enrolled", c.full_name, member.learner_id,
                                       seat_number=event.seat_number))
        else:
            outcomes.append(RowOutcome(row.row, "waitlisted", c.full_name, member.learner_id,
                                       position=event.position, reason=reason))
    return events, outcomes
