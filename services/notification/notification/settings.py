"""Notification's settings: the shared ones plus how webhooks and emails are sent."""
from __future__ import annotations

import json
import re
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import NoDecode
from ttct.papers import settings as papers

from notification.adapters.mailer import SmtpConfig
from notification.domain.backoff import DEFAULT_SCHEDULE, RetryPolicy
from notification.domain.kinds import Centre

_UNITS = {"": 1, "ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$")


def _seconds(text: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration (e.g. 0, 5s, 5m, 2h)")
    return float(match[1]) * _UNITS[match[2] or ""]


class NotificationSettings(papers.PaperSettings):
    service_name: str = "notification"
    webhook_allow_private_targets: bool = Field(
        default=False, description="allow webhook URLs on private, loopback and link-local addresses (tests, demo)")
    webhook_timeout: float = Field(default=15.0, gt=0, le=120, description="seconds for one delivery attempt")
    webhook_retry_schedule: Annotated[tuple[float, ...], NoDecode] = Field(
        default=DEFAULT_SCHEDULE,
        description="delay before each attempt, the first usually 0: '0,5s,5m,30m,2h,5h,10h,10h' or a JSON list")
    webhook_retry_jitter: float = Field(default=0.2, ge=0, lt=1, description="± share of each delay, randomised")
    webhook_max_retry_after: float = Field(default=86400.0, ge=0, description="cap on a receiver's Retry-After")
    webhook_concurrency: int = Field(default=50, ge=1, le=1000, description="deliveries in flight per replica")
    webhook_max_in_flight_per_endpoint: int = Field(default=4, ge=1, le=100)
    webhook_lease: float = Field(default=60.0, gt=0, description="seconds a replica owns a claimed delivery")
    webhook_poll_interval: float = Field(default=1.0, gt=0, description="longest sleep between looks for due work")
    webhook_shutdown_grace: float = Field(default=5.0, ge=0, description="seconds to let in-flight sends finish")
    webhook_disable_after_failures: int = Field(
        default=5, ge=1, description="consecutive failed deliveries (each after its last retry) that disable an "
                                     "endpoint and email its organisation's contacts")
    digest_interval: float = Field(default=86400.0, gt=0,
                                   description="seconds between digests for organisations in digest mode")
    succession_check_interval: float = Field(
        default=3600.0, gt=0, description="seconds between passes that re-address the notices of organisations whose "
                                          "merge or dissolution came into force (one dated ahead of when it was "
                                          "recorded; one in force already is re-addressed as it is applied)")
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: no email is sent or queued")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = Field(default="thong-bao@ttct.local", description="the From address of notices")
    smtp_from_name: str | None = Field(default="Trung tâm Chính trị", description="the From display name")
    smtp_tls: Literal["none", "starttls", "tls"] = Field(default="starttls",
                                                         description="STARTTLS, implicit TLS (465) or none")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = Field(default=30.0, gt=0, le=300)

    @field_validator("webhook_retry_schedule", mode="before")
    @classmethod
    def _schedule(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            value = json.loads(text) if text.startswith("[") else [_seconds(part) for part in text.split(",")]
        if isinstance(value, list | tuple) and not 1 <= len(value) <= 50:
            raise ValueError("needs between 1 and 50 delays")
        if isinstance(value, list | tuple) and any(float(v) < 0 for v in value):
            raise ValueError("delays must not be negative")
        return value

    @field_validator("webhook_lease")
    @classmethod
    def _lease_outlives_a_request(cls, value: float, info: ValidationInfo) -> float:
        # A lease shorter than a request would let a second replica resend a delivery still in flight.
        if value <= info.data.get("webhook_timeout", 0):
            raise ValueError("must be longer than WEBHOOK_TIMEOUT")
        return value

    @property
    def smtp_config(self) -> SmtpConfig:
        assert self.smtp_host
        return SmtpConfig(self.smtp_host, self.smtp_port, self.smtp_from, self.smtp_from_name, self.smtp_tls,
                          self.smtp_username, self.smtp_password, self.smtp_timeout, self.paper_font_file,
                          self.centres)

    def centre(self, code: str) -> Centre:
        return Centre(code, self.centre_profile(code).name)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(self.webhook_retry_schedule, self.webhook_retry_jitter, self.webhook_max_retry_after)
