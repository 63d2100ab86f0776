"""The retry schedule and what each response means for a delivery."""
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from notification.domain.backoff import DEFAULT_SCHEDULE, Decision, Outcome, RetryPolicy, decide, parse_retry_after

pytestmark = pytest.mark.unit
MIDDLE = lambda: 0.5  # noqa: E731  (jitter factor exactly 1)


def test_the_default_schedule_spans_about_three_days_in_eight_attempts():
    policy = RetryPolicy()
    assert policy.max_attempts == 8
    delays = [policy.delay_after(n, MIDDLE) for n in range(1, 9)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000, None]
    assert 1.0 < sum(DEFAULT_SCHEDULE) / 86400 < 1.5  # 0 s … 10 h: the last attempt ~31 h after the first


def test_jitter_spreads_a_delay_within_its_share_both_ways():
    policy = RetryPolicy(jitter=0.2)
    assert policy.delay_after(2, lambda: 0.0) == pytest.approx(240)
    assert policy.delay_after(2, lambda: 0.999999) == pytest.approx(360, rel=1e-5)
    assert RetryPolicy(jitter=0).delay_after(2, lambda: 0.0) == 300


def test_retry_after_lengthens_a_wait_but_never_shortens_it_and_is_capped():
    policy = RetryPolicy(schedule=(0, 5, 300), jitter=0, max_retry_after=3600)
    assert policy.delay_after(1, MIDDLE, retry_after=60) == 60
    assert policy.delay_after(1, MIDDLE, retry_after=1) == 5
    assert policy.delay_after(1, MIDDLE, retry_after=10**9) == 3600
    assert policy.delay_after(3, MIDDLE, retry_after=60) is None  # no attempt left: Retry-After cannot add one


@pytest.mark.parametrize("status, attempt, expected", [
    (200, 1, Decision(Outcome.delivered)),
    (204, 8, Decision(Outcome.delivered)),
    (410, 1, Decision(Outcome.endpoint_gone)),
    (500, 1, Decision(Outcome.retry, 5.0)),
    (404, 2, Decision(Outcome.retry, 300.0)),
    (302, 1, Decision(Outcome.retry, 5.0)),  # redirects are not followed
    (None, 1, Decision(Outcome.retry, 5.0)),  # no response: timeout, refused connection, refused target
    (500, 8, Decision(Outcome.failed)),
    (None, 8, Decision(Outcome.failed)),
])
def test_what_a_response_means(status, attempt, expected):
    assert decide(attempt, status, None, RetryPolicy(jitter=0), MIDDLE) == expected


def test_retry_after_in_seconds_or_as_an_http_date():
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(format_datetime(now + timedelta(minutes=2), usegmt=True), now) == 120
    assert parse_retry_after(format_datetime(now - timedelta(minutes=2), usegmt=True), now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("", now) is None and parse_retry_after(None, now) is None
