"""Settings from the environment (``AIFACTORY_*``). Built in ``create_app`` / the CLI, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .backends.registry import BACKENDS

DEV_SECRET = "development-only-secret-do-not-use-in-production"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("aifactory", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AIFACTORY_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    max_body_bytes: int = 1_048_576
    max_concurrent_requests: int = Field(default=16, ge=1, le=256)
    token_ttl_days: int = 90
    site_name: str = "AI Factory"
    # the portal (aifactory.web)
    session_idle_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60, description="portal sign-out after idle")
    session_hours: int = Field(default=12, ge=1, le=24 * 30, description="portal sign-in lasts at most this long")
    cookie_secure: bool | None = Field(default=None, description="Secure cookies (HTTPS only); default: in production")
    # the job gateway
    site: str = Field(
        default="local",
        pattern=r"^[a-z0-9][a-z0-9-]{0,31}$",
        description="this site's slug (marks its jobs in the scheduler)",
    )
    backend: str = Field(default="local", description=f"the job backend: {', '.join(BACKENDS)}")
    gpu_slots: int = Field(default=4, ge=0, le=1024, description="GPU slots of the local executor")
    slurm_cluster: str | None = None
    slurm_submit_user: str | None = Field(default=None, description="Unix user that submits (default: this one)")
    reconcile_seconds: float = Field(default=2.0, ge=0, description="reconciler interval; 0 turns it off")
    accounting_seconds: float = Field(
        default=120.0, ge=1, le=86400, description="scheduler limits, priorities and outside jobs: how often"
    )
    orphan_after_seconds: float = Field(
        default=120.0,
        ge=0,
        le=86400,
        description="a stored job the backend never confirmed is looked up or resubmitted after this long",
    )
    max_log_streams: int = Field(default=64, ge=1, le=10000)
    templates_dir: Path | None = Field(
        default=None,
        description="this site's own job templates (one folder per template, with template.yaml and README.md)",
    )
    fault_injection: Literal["", "crash-after-backend-submit"] = ""
    # notifications (aifactory.notify): a channel without settings is recorded "off"
    webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$", description="POST target")
    webhook_secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key of the signature header")
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "aifactory@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, name: str) -> str:
        if name not in BACKENDS:
            raise ValueError(f"unknown backend {name!r} (valid: {', '.join(sorted(BACKENDS))})")
        return name

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        if self.env == "production":
            secret = self.secret_key.get_secret_value()
            if self.fault_injection:
                raise ValueError("AIFACTORY_FAULT_INJECTION is for tests only")
            if secret == DEV_SECRET or len(secret) < 32:
                raise ValueError(
                    "AIFACTORY_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if self.webhook_url and len(self.webhook_secret.get_secret_value() if self.webhook_secret else "") < 32:
                raise ValueError(
                    "AIFACTORY_WEBHOOK_URL needs AIFACTORY_WEBHOOK_SECRET (at least 32 characters) "
                    "in production: receivers check the signature with it"
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        """PostgreSQL when AIFACTORY_DATABASE_URL is set, else a SQLite file in the data folder."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{self.data_dir / 'aifactory.db'}"

    @property
    def secure_cookies(self) -> bool:
        return self.env == "production" if self.cookie_secure is None else self.cookie_secure

    @property
    def jobs_root(self) -> Path:
        return self.data_dir / "jobs"

    def ensure_dirs(self) -> None:
        for sub in ("", "jobs", "logs"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
