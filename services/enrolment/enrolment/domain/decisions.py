"""Dispatch decisions (quyết định cử đi học), pure: a decision is known by its organisation and number, and every
enrolment that cites it must cite the same decision (same day, same signer), so that one decision sending many
learners, to several classes, is cited once on their result report, not once per way of typing it."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ttct.contracts.types import DispatchDecision
from ttct.domain.errors import Rejected
from ttct.papers import labels


def key(organisation_code: str, decision: DispatchDecision) -> tuple[str, str]:
    return organisation_code, decision.number


def conflict(organisation_code: str, cited: DispatchDecision,
             recorded: Mapping[str, Any] | DispatchDecision | None) -> tuple[str, str] | None:
    """Why `cited` cannot be the decision `recorded` under the same organisation and number (English, Vietnamese),
    or None if it is the same one or the first citing that number."""
    if recorded is None:
        return None
    known = recorded if isinstance(recorded, DispatchDecision) else DispatchDecision.model_validate(recorded)
    if (known.signed_on, known.signer) == (cited.signed_on, cited.signer):
        return None
    return (f"decision {cited.number} of organisation {organisation_code} is already recorded as signed on "
            f"{labels.day(known.signed_on)} by {known.signer}, not on {labels.day(cited.signed_on)} by {cited.signer}",
            f"Quyết định số {cited.number} của đơn vị {organisation_code} đã được ghi nhận là ký ngày "
            f"{labels.day(known.signed_on)} bởi {known.signer}, không phải ngày {labels.day(cited.signed_on)} bởi "
            f"{cited.signer}")


def check(organisation_code: str, cited: DispatchDecision | None,
          recorded: Mapping[tuple[str, str], Mapping[str, Any]]) -> None:
    if cited is None:
        return
    problem = conflict(organisation_code, cited, recorded.get(key(organisation_code, cited)))
    if problem is not None:
        raise Rejected(*problem, code="dispatch-decision-differs",
                       recorded=dict(recorded[key(organisation_code, cited)]))
