"""Where ``aifactory login`` keeps the server URL and token: a JSON file readable by its owner only.

The folder is ``platformdirs.user_config_dir("aifactory")``, or ``$AIFACTORY_CONFIG_DIR``;
``$AIFACTORY_URL`` and ``$AIFACTORY_TOKEN`` override what the file says.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_DIR, ENV_URL, ENV_TOKEN = "AIFACTORY_CONFIG_DIR", "AIFACTORY_URL", "AIFACTORY_TOKEN"
FILE_NAME = "credentials.json"


class CredentialsError(Exception):
    """The credentials file exists but cannot be read."""


@dataclass(frozen=True)
class Credentials:
    url: str | None = None
    token: str | None = None


def config_dir() -> Path:
    return Path(os.environ.get(ENV_DIR) or platformdirs.user_config_dir("aifactory", appauthor=False))


def credentials_file() -> Path:
    return config_dir() / FILE_NAME


def _stored() -> Credentials:
    path = credentials_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Credentials()
    except (OSError, ValueError) as exc:
        raise CredentialsError(f"cannot read {path}: {exc}; run `aifactory login` again") from exc
    if not isinstance(data, dict):
        raise CredentialsError(f"{path} is not a credentials file; run `aifactory login` again")
    return Credentials(url=data.get("url"), token=data.get("token"))


def load() -> Credentials:
    """The stored URL and token, each overridden by its environment variable when that is set."""
    stored = _stored()
    return Credentials(url=os.environ.get(ENV_URL) or stored.url, token=os.environ.get(ENV_TOKEN) or stored.token)


def save(url: str, token: str) -> Path:
    """Write atomically with mode 0600 (in a folder of mode 0700 when it is created here)."""
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"url": url, "token": token}, f)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def forget() -> bool:
    """Remove the stored credentials; False when there were none."""
    try:
        credentials_file().unlink()
    except FileNotFoundError:
        return False
    return True
