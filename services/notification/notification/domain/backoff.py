"""When to try a failed webhook delivery again, and what an attempt's response means.

Pure: the random source and the clock are passed in, so the schedule is testable to the second.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

# Standard Webhooks / Svix style: about three days from the first attempt to the last.
DEFAULT_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


class Outcome(StrEnum):
    delivered = "delivered"
    retry = "retry"
    failed = "failed"  # no attempt left
    endpoint_gone = "endpoint_gone"  # 410: the receiver asks us to stop sending to this endpoint


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    delay: float | None = None  # seconds until the next attempt, for `retry`


@dataclass(frozen=True)
class RetryPolicy:
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = 0.2
    max_retry_after: float = 86400.0

    @property
    def max_attempts(self) -> int:
        return len(self.schedule)

    def delay_after(self, attempt: int, rand: Callable[[], float], retry_after: float | None = None) -> float | None:
        """Seconds to wait after failed attempt number `attempt` (1-based), or None when it was the last.

        Jitter spreads retries of many deliveries that failed together (a receiver's outage) so they do not
        come back as one burst; a receiver's Retry-After can lengthen the wait, never shorten it.
        """
        if attempt >= len(self.schedule):
            return None
        delay = self.schedule[attempt] * (1 + self.jitter * (2 * rand() - 1))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return max(delay, 0.0)


def decide(attempt: int, status_code: int | None, retry_after: float | None, policy: RetryPolicy,
           rand: Callable[[], float]) -> Decision:
    """What to do after attempt number `attempt`; `status_code` is None when no response came back."""
    if status_code is not None and 200 <= status_code < 300:
        return Decision(Outcome.delivered)
    if status_code == 410:
        return Decision(Outcome.endpoint_gone)
    delay = policy.delay_after(attempt, rand, retry_after)
    return Decision(Outcome.failed) if delay is None else Decision(Outcome.retry, delay)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)


def decide_email(attempt: int, smtp_code: int | None, policy: RetryPolicy, rand: Callable[[], float]) -> Decision:
    """After an SMTP attempt: 2xx delivered, 5xx (a permanent refusal, e.g. no such mailbox) failed at once,
    4xx or no answer retried on the schedule."""
    if smtp_code is not None and 200 <= smtp_code < 300:
        return Decision(Outcome.delivered)
    if smtp_code is not None and 500 <= smtp_code < 600:
        return Decision(Outcome.failed)
    delay = policy.delay_after(attempt, rand)
    return Decision(Outcome.failed) if delay is None else Decision(Outcome.retry, delay)
