"""Settings common to every service: one pydantic-settings class, read from the environment once, at start.

A missing or malformed setting stops the service at start with a message naming the variable.
"""
from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ttct.contracts.envelope import Code


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore", frozen=True)

    service_name: str
    province_code: Code = Field(description="This deployment's province, e.g. thanh-hoa")
    database_url: str = Field(description="postgresql://… URL of this service's own database")
    key_vault_url: str | None = Field(
        default=None, description="postgresql://… URL of the key vault (learners' data keys), a database outside "
                                  "every event store, shared by the services; production must set it. Unset: the "
                                  "service's own database (single-service tests)")
    database_app_role: str = Field(
        default="ttct_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="the role every statement runs as (SET ROLE): neither the tables' owner nor BYPASSRLS, so "
                    "row-level security applies; DATABASE_URL logs in as the owner, a member of it")
    nats_url: str = Field(default="nats://127.0.0.1:4222",
                          description="one NATS URL, or a cluster's, comma-separated (nats://a:4222,nats://b:4222)")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    provision: bool = Field(default=True, description="create schema, streams and consumers at start")
    log_level: str = "INFO"
    db_pool_size: int = Field(default=10, ge=1, le=100)
    relay_batch_size: int = Field(default=1000, ge=1)
    relay_poll_interval: float = Field(default=0.2, gt=0)
    consumer_batch_size: int = Field(default=200, ge=1)
    consumer_fetch_timeout: float = Field(default=1.0, gt=0)
    consumer_max_deliver: int = Field(default=5, ge=1)
    consumer_ack_wait: float = Field(default=30.0, gt=0)
    aggregate_cache_events: int = Field(
        default=20_000, ge=0,
        description="events the cached states of one kind of aggregate may fold (a class's roster folds one a "
                    "learner, with their sealed data): the least recently used are dropped beyond it and read again "
                    "from the store when next needed; bounds the service's memory")
    certificate_registers_cached: int = Field(
        default=30, ge=1,
        description="assessment: how many registers of certificates (one per centre and year, thousands of "
                    "certificates each) stay cached; enough for a province's centres this year. One dropped is "
                    "read whole again at its centre's next finalisation")
    auth_issuer: str = Field(default="ttct-local", description="expected `iss` of bearer tokens")
    auth_audience: str = Field(default="ttct-api", description="expected `aud` of bearer tokens")
    auth_jwks_url: str | None = Field(default=None, description="the identity provider's JWKS URL")
    auth_public_key_file: str | None = Field(default=None, description="PEM public key (local stack)")
    auth_algorithms: tuple[str, ...] = ("RS256", "ES256")
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=0,
                                description="largest request body accepted, in bytes (413 above); 0: no limit")
    rate_limit_per_second: float = Field(default=100.0, ge=0,
                                         description="requests per second per client and replica; 0: no limit")
    rate_limit_burst: int = Field(default=300, ge=1, description="requests a client may make at once")

    @model_validator(mode="after")
    def _one_key_source(self) -> "ServiceSettings":
        if not (self.auth_jwks_url or self.auth_public_key_file):
            raise ValueError("AUTH_JWKS_URL or AUTH_PUBLIC_KEY_FILE must be set: bearer tokens are always verified")
        if any(a.upper().startswith(("HS", "NONE")) for a in self.auth_algorithms):
            raise ValueError("AUTH_ALGORITHMS must be asymmetric (RS*/ES*/PS*/EdDSA): no `none`, no HS*")
        return self

    @field_validator("database_url", "key_vault_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("nats_url")
    @classmethod
    def _nats_url(cls, value: str) -> str:
        if not all(part.strip().startswith(("nats://", "tls://")) for part in value.split(",")):
            raise ValueError("must be one or more nats:// or tls:// URLs, comma-separated")
        return value

    @property
    def nats_servers(self) -> list[str]:
        """NATS_URL as the list nats.connect takes: every server of the cluster, to fail over between."""
        return nats_servers(self.nats_url)


def nats_servers(nats_url: str) -> list[str]:
    """A NATS_URL naming one server or several, comma-separated, as the list of servers nats.connect takes."""
    return [part.strip() for part in nats_url.split(",") if part.strip()]


S = TypeVar("S", bound=ServiceSettings)


def load_settings(cls: type[S], **overrides: object) -> S:
    """The settings from the environment, or exit naming every missing or malformed variable."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{str(err['loc'][0]).upper() if err['loc'] else 'settings'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        print(f"{cls.__name__}: invalid configuration: {problems}", file=sys.stderr)
        raise SystemExit(2) from None
