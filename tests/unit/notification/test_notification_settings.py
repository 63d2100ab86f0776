"""Notification's settings: the retry schedule from the environment, and refusals that name the variable."""
import pytest
from notification.settings import NotificationSettings
from ttct.operations.settings import load_settings

pytestmark = pytest.mark.unit
BASE = {"PROVINCE_CODE": "thanh-hoa", "DATABASE_URL": "postgresql://x@localhost/notification",
        "AUTH_JWKS_URL": "https://idp.example.org/jwks"}


@pytest.fixture
def env(monkeypatch):
    for key, value in BASE.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


def test_defaults_follow_the_standard_webhooks_practice(env):
    s = load_settings(NotificationSettings)
    assert s.service_name == "notification"
    assert s.webhook_retry_schedule == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert s.webhook_timeout == 15 and s.webhook_allow_private_targets is False


@pytest.mark.parametrize("text, expected", [
    ("0,5s,5m,30m,2h,5h,10h,10h", (0, 5, 300, 1800, 7200, 18000, 36000, 36000)),
    ("0,0.2,0.5,1", (0, 0.2, 0.5, 1)),
    ("[0, 250ms]".replace("250ms", "0.25"), (0, 0.25)),
    ("0, 100ms, 1d", (0, 0.1, 86400)),
])
def test_the_retry_schedule_is_read_as_durations(env, text, expected):
    env.setenv("WEBHOOK_RETRY_SCHEDULE", text)
    env.setenv("WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    s = load_settings(NotificationSettings)
    assert s.webhook_retry_schedule == pytest.approx(expected)
    assert s.webhook_allow_private_targets is True
    assert s.retry_policy.max_attempts == len(expected)


@pytest.mark.parametrize("name, value", [("WEBHOOK_RETRY_SCHEDULE", "0,soon"), ("WEBHOOK_RETRY_SCHEDULE", "[-1]"),
                                         ("WEBHOOK_LEASE", "10"), ("WEBHOOK_TIMEOUT", "0")])
def test_a_bad_setting_stops_the_service_naming_it(env, capsys, name, value):
    env.setenv(name, value)
    with pytest.raises(SystemExit):
        load_settings(NotificationSettings)
    assert name in capsys.readouterr().err
