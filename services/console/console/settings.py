"""The console's settings: one pydantic-settings class, read once at start; a missing or malformed one stops it
with a message naming the variable (ttct.operations.settings.load_settings)."""
from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ttct.contracts.envelope import Code


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", frozen=True)

    service_name: str = "console"
    province_code: Code = Field(description="This deployment's province, e.g. thanh-hoa")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    http_workers: int = Field(default=2, ge=1, le=64, description=(
        "processes answering the browsers on the one port: a page's own work (reading the services' answers, "
        "rendering) is CPU, one core's worth per process; the console keeps nothing between requests (the session "
        "is in the signed cookie), so any of them may answer any request"))
    log_level: str = "INFO"
    public_url: str = Field(description="the console's own URL as the browser sees it (the OIDC redirect URI and "
                                        "whether the session cookie is Secure derive from it)")
    scheduling_url: str = Field(description="base URL of the scheduling service's API (without /v1)")
    enrolment_url: str = Field(description="base URL of the enrolment service's API")
    assessment_url: str = Field(description="base URL of the assessment service's API")
    notification_url: str = Field(description="base URL of the notification service's API")
    oidc_metadata_url: str = Field(description="the identity provider's .well-known/openid-configuration URL")
    oidc_client_id: str = Field(default="ttct-console")
    oidc_client_secret: str | None = Field(default=None, description="unset: a public client (PKCE only)")
    oidc_scope: str = "openid profile"
    session_secret: str = Field(min_length=32, description="signs the session cookie; the same on every replica")
    session_idle_minutes: int = Field(default=30, ge=1, description="signed out after this long without a request")
    api_timeout: float = Field(default=15.0, gt=0)

    @field_validator("public_url", "scheduling_url", "enrolment_url", "assessment_url", "notification_url",
                     "oidc_metadata_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @property
    def secure_cookie(self) -> bool:
        """Secure everywhere but on the developer's own machine (plain http to localhost)."""
        host = self.public_url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
        return not (self.public_url.startswith("http://") and host in ("localhost", "127.0.0.1", "[::1]"))
