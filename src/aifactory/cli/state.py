"""The state of one CLI invocation: output mode and the API client (built on first use, closed at the end)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from ..client import AifactoryClient
from . import credentials, names

ENV_RETRIES = "AIFACTORY_RETRIES"
LOGIN_HINT = "run `aifactory login --url URL --token TOKEN` (or set AIFACTORY_URL and AIFACTORY_TOKEN)"


class CliError(Exception):
    """A failure explained to the user in one line (exit code 1)."""


def connect(url: str | None = None, token: str | None = None, *, need_token: bool = True) -> AifactoryClient:
    """A client for ``url``/``token``, each defaulting to the stored or environment credentials."""
    if not url or (need_token and not token):
        try:
            stored = credentials.load()
        except credentials.CredentialsError as exc:
            raise CliError(str(exc)) from exc
        url, token = url or stored.url, token or stored.token
    if need_token and not (url and token):
        raise CliError(f"not logged in: {LOGIN_HINT}")
    if not url:
        raise CliError("no server URL: pass --url (e.g. http://127.0.0.1:8000) or set AIFACTORY_URL")
    retries = os.environ.get(ENV_RETRIES, "3")
    if not retries.isdigit():
        raise CliError(f"{ENV_RETRIES} must be a whole number, not {retries!r}")
    return AifactoryClient(url, token if need_token else None, retries=int(retries))


@dataclass
class CliState:
    json_output: bool = False
    _client: AifactoryClient | None = field(default=None, repr=False)
    _names: dict[names.Kind, dict[int, str]] = field(default_factory=dict, repr=False)

    def client(self) -> AifactoryClient:
        """The logged-in client (stored credentials, overridden by AIFACTORY_URL / AIFACTORY_TOKEN)."""
        if self._client is None:
            self._client = connect()
        return self._client

    def name_of(self, kind: names.Kind, id_: int) -> str | None:
        """The name of the ``kind`` with this id: looked up once per kind; None when unknown or not allowed."""
        if kind not in self._names:
            self._names[kind] = names.fetch(self.client(), kind)
        return self._names[kind].get(id_)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


_CURRENT: ContextVar[CliState | None] = ContextVar("aifactory_cli_state", default=None)


def current() -> CliState:
    state = _CURRENT.get()
    if state is None:  # outside an invocation (e.g. a helper called directly): a default state
        state = CliState()
        _CURRENT.set(state)
    return state


@contextmanager
def invocation() -> Iterator[CliState]:
    """A fresh state for one run of the CLI; its client is closed afterwards."""
    state = CliState()
    token = _CURRENT.set(state)
    try:
        yield state
    finally:
        state.close()
        _CURRENT.reset(token)


def api() -> AifactoryClient:
    return current().client()
