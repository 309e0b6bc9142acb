"""Settings from the environment (``AIFACTORY_*``). Built in ``create_app`` / the CLI, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .backends.registry import BACKENDS
from .domain.posix import IdentityPolicy, IdRange
from .oidc.settings import OidcProviderSettings, check_providers

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
    # single sign-on through OpenID Connect providers (aifactory.oidc, services.sso; docs/sso.md)
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="the factory's address as browsers reach it (redirect URIs are built on it); default: the request",
    )
    oidc_providers: list[OidcProviderSettings] = Field(
        default_factory=list, description="the sign-in services people may use, a JSON list (docs/sso.md)"
    )
    # the job gateway
    site: str = Field(
        default="local",
        pattern=r"^[a-z0-9][a-z0-9-]{0,31}$",
        description="this site's slug (marks its jobs in the scheduler)",
    )
    backend: str = Field(default="local", description=f"the job backend: {', '.join(BACKENDS)}")
    gpu_slots: int = Field(default=4, ge=0, le=1024, description="GPU slots of the local executor")
    # the local executor's sandbox and limits (backends.local_launch, backends.sandbox; docs/security.md)
    cpu_slots: int | None = Field(default=None, ge=1, le=4096, description="CPU slots (default: this machine's CPUs)")
    local_network: bool = Field(default=False, description="local jobs get the host's network (weakens isolation)")
    local_ro_paths: str = Field(default="", description="extra read-only paths inside local jobs, ':'-separated")
    local_single_tenant: bool = Field(
        default=False, description="without a sandbox, run every organization's jobs anyway (one trusted tenant)"
    )
    local_max_processes: int = Field(default=4096, ge=16, le=4_194_304, description="RLIMIT_NPROC of local jobs")
    local_max_open_files: int = Field(default=65536, ge=64, le=1_048_576, description="RLIMIT_NOFILE of local jobs")
    slurm_cluster: str | None = None
    slurm_submit_user: str | None = Field(default=None, description="Unix user that submits (default: this one)")
    slurm_run_as: Literal["auto", "runuser", "sudo"] = Field(
        default="auto",
        description="how sbatch/scancel run as a job's owner: runuser (root), sudo -n (a service account); auto",
    )
    # POSIX identities of project members (domain.posix, services.identities, aifactory.identity)
    identity_kind: Literal["auto", "local", "ldap", "none"] = Field(
        default="auto", description="identity provisioner: local (useradd), ldap, none; auto: local as root"
    )
    identity_prefix: str = Field(default="aif", pattern=r"^[a-z][a-z0-9]{0,11}$", description="of POSIX names")
    identity_uid_first: int = Field(default=200_000, ge=1000, lt=2**31 - 1)
    identity_uid_last: int = Field(default=299_999, ge=1000, lt=2**31 - 1)
    identity_gid_first: int = Field(default=300_000, ge=1000, lt=2**31 - 1)
    identity_gid_last: int = Field(default=399_999, ge=1000, lt=2**31 - 1)
    ldap_url: str | None = Field(default=None, pattern=r"^ldaps?://\S+$")
    ldap_bind_dn: str | None = None
    ldap_bind_password: SecretStr | None = None
    ldap_users_dn: str | None = Field(default=None, description="where posixAccount entries go (ou=people,...)")
    ldap_groups_dn: str | None = Field(default=None, description="where posixGroup entries go (ou=groups,...)")
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
    max_log_streams: int = Field(default=64, ge=1, le=10000, description="live log streams open at once (all users)")
    max_log_streams_per_user: int = Field(default=8, ge=1, le=10000, description="live log streams one user may hold")
    # project storage (services.storage, docs/storage.md)
    storage_quota_bytes: int = Field(
        default=10 << 30, ge=0, le=1 << 60, description="a project's storage quota in bytes (operators set others)"
    )
    storage_quota_files: int = Field(
        default=10_000, ge=0, le=100_000_000, description="a project's storage quota in files (operators set others)"
    )
    storage_chunk_bytes: int = Field(
        default=8 << 20, ge=64 << 10, le=256 << 20, description="the largest chunk one upload request may carry"
    )
    proposal_attachment_max_bytes: int = Field(
        default=20 << 20,
        ge=1 << 20,
        le=50 << 20,
        description="the largest PDF a call may let applicants attach to a proposal (each call sets its own below it)",
    )
    storage_upload_hours: float = Field(
        default=24.0, gt=0, le=24 * 90, description="an upload nothing was added to for this long is removed"
    )
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
    smtp_html: bool = Field(default=True, description="e-mails carry an HTML part beside the plain text")
    notify_max_attempts: int = Field(default=8, ge=1, le=100, description="deliveries tried before giving up")
    # sign-in throttling (services.throttle, the `limits` library; docs/security.md): failures per account and
    # per client address, several windows each, so that the wait grows; the counters live in this storage
    throttle_storage: str = Field(
        default="memory://", description="the limits library's storage URI (memory://, redis://host:6379, ...)"
    )
    throttle_signin_account: str = "5/minute;10/15 minutes;20/hour;50/day"
    throttle_signin_address: str = "20/minute;100/hour;500/day"
    throttle_mail_account: str = "3/15 minutes;10/day"  # password-reset and verification e-mails asked for
    throttle_mail_address: str = "10/hour;50/day"

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, name: str) -> str:
        if name not in BACKENDS:
            raise ValueError(f"unknown backend {name!r} (valid: {', '.join(sorted(BACKENDS))})")
        return name

    @model_validator(mode="after")
    def _identities_consistent(self) -> Settings:
        self.identity_policy  # noqa: B018 - raises on overlapping or reversed ranges
        if self.identity_kind == "ldap":
            needed = ("ldap_url", "ldap_bind_dn", "ldap_bind_password", "ldap_users_dn", "ldap_groups_dn")
            missing = [f"AIFACTORY_{name.upper()}" for name in needed if not getattr(self, name)]
            if missing:
                raise ValueError(f"AIFACTORY_IDENTITY_KIND=ldap needs {', '.join(missing)}")
        return self

    @property
    def identity_policy(self) -> IdentityPolicy:
        """How POSIX identities are named and numbered (the ranges and prefix above)."""
        return IdentityPolicy(
            self.identity_prefix,
            IdRange(self.identity_uid_first, self.identity_uid_last, "AIFACTORY_IDENTITY_UID_FIRST/_LAST"),
            IdRange(self.identity_gid_first, self.identity_gid_last, "AIFACTORY_IDENTITY_GID_FIRST/_LAST"),
        )

    @model_validator(mode="after")
    def _providers_consistent(self) -> Settings:
        check_providers(self.oidc_providers, production=self.env == "production", public_url=self.public_url)
        return self

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
        """The data folder and its parts, closed to job identities: the folder and the jobs root 0711 (a job
        reaches its own folder by its path and can list nothing), the logs 0700, the SQLite files 0600."""
        for sub, mode in (("", 0o711), ("jobs", 0o711), ("logs", 0o700)):
            path = self.data_dir / sub
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(mode)
        url = self.resolved_database_url
        if url.startswith("sqlite:///"):
            for suffix in ("", "-wal", "-shm", "-journal"):
                db = Path(url.removeprefix("sqlite:///") + suffix)
                if db.is_file():
                    db.chmod(0o600)
