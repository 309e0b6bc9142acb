"""Settings from the environment (``AIFACTORY_*``). Built in ``create_app`` / the CLI, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> "Settings":
        if self.env == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEV_SECRET or len(secret) < 32:
                raise ValueError("AIFACTORY_SECRET_KEY must be set to a random value of at least 32 characters "
                                 "in production (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
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

    def ensure_dirs(self) -> None:
        for sub in ("", "jobs", "logs"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
