"""Refusals the domain can give, each with a stable code and a reason in English and Vietnamese.

The domain raises them; the HTTP layer turns them into RFC 9457 problems with the status they carry.
"""
from __future__ import annotations


class DomainError(Exception):
    status = 409
    code = "conflict"

    def __init__(self, detail: str, detail_vi: str, *, code: str | None = None, **extra: object) -> None:
        super().__init__(detail)
        self.detail, self.detail_vi, self.extra = detail, detail_vi, extra
        if code is not None:
            self.code = code


class NotFound(DomainError):
    status = 404
    code = "not-found"


class Rejected(DomainError):
    """The request is well-formed but breaks a rule (full class, already enrolled, ...)."""

    status = 409


class Invalid(DomainError):
    status = 422
    code = "invalid-input"


class PreconditionFailed(DomainError):
    """If-Match names a version that is no longer the current one."""

    status = 412
    code = "precondition-failed"
