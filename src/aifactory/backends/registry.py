"""The backends by name: a new backend is one module with a ``from_settings`` classmethod and one line here.

Modules are imported on demand, so naming the backends (as the settings do, to validate
``AIFACTORY_BACKEND``) imports none of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

from ..domain.errors import InvalidInput

if TYPE_CHECKING:
    from ..config import Settings
    from ..services.ports import Backend

BACKENDS: dict[str, str] = {  # name -> "module:Class"
    "local": "aifactory.backends.local:LocalBackend",
    "slurm": "aifactory.backends.slurm.backend:SlurmBackend",
}


class BackendFactory(Protocol):
    """A backend class: it builds itself from the settings, without I/O."""

    def from_settings(self, settings: Settings) -> Backend: ...


def backend_class(name: str) -> BackendFactory:
    """The backend class for a name; the error lists the valid names."""
    target = BACKENDS.get(name)
    if target is None:
        raise InvalidInput.on("backend", f"unknown backend {name!r} (valid: {', '.join(sorted(BACKENDS))})")
    module_name, _, cls_name = target.partition(":")
    factory: BackendFactory = getattr(importlib.import_module(module_name), cls_name)
    return factory


def build_backend(settings: Settings) -> Backend:
    """The site's backend (``AIFACTORY_BACKEND``), built from the settings. No I/O happens here."""
    return backend_class(settings.backend).from_settings(settings)
