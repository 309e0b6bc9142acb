"""A job's inputs resolved at submission: each name of the spec's ``inputs`` to the server's path of the bytes the
job will read (read-only; the backend stages them, see ``domain.jobs.execution.StagedInput``).

* ``{"dataset": slug}``: a catalog dataset the submitter may see (the catalog's visibility rules: their
  organization's own, or a listed public one), backed by stored content (``<data dir>/datasets/<ref>``, which
  never changes once registered).
* ``{"storage": path}``: a file (or a folder of files) in the storage of the job's own project, never another's.

Every problem is reported at once, each named ``inputs.<name>`` (``InvalidInput``: a 422 in the API); nothing is
stored before all of them resolve.
"""

from __future__ import annotations

from ..domain.catalog import CatalogKind
from ..domain.errors import FieldError, InvalidInput
from ..domain.jobs.execution import StagedInput
from ..domain.jobs.inputs import InputRef
from ..domain.jobs.spec import JobSpec
from ..domain.projects import Project
from ..domain.storage import check_name
from .context import Actor
from .ports import UnitOfWork
from .storage_disk import StorageArea

MAX_FOLDER_FILES = 10_000  # files of one storage folder given as an input


def _dataset(uow: UnitOfWork, actor: Actor, area: StorageArea, ref: InputRef) -> StagedInput:
    from .catalog import find_visible  # here: the catalog runs templates through the job gateway (jobs -> us)
    from .datasets import content_of

    item = find_visible(uow, actor, CatalogKind.DATASET, ref.ref)
    if item is None:
        raise _problem(ref, f"dataset {ref.ref!r} not found (or not visible to you)")
    content = content_of(item)
    if content is None:
        raise _problem(ref, f"dataset {ref.ref!r} has no stored files (it was not registered from project storage)")
    path = content.path(area)
    if not path.exists():
        raise _problem(ref, f"dataset {ref.ref!r}: its stored files are missing; ask an operator")
    return StagedInput(ref.name, str(path), content.folder)


def _storage(uow: UnitOfWork, area: StorageArea, project: Project, ref: InputRef) -> StagedInput:
    name = check_name(ref.ref.rstrip("/"), f"inputs.{ref.name}.storage")
    pid = project.stored_id
    if uow.storage.file(pid, name) is not None:
        return StagedInput(ref.name, str(area.project_dir(pid) / name), False)
    if uow.storage.under(pid, name, 1):
        return StagedInput(ref.name, str(area.project_dir(pid) / name), True)
    raise _problem(ref, f"no file or folder {name!r} in the storage of project {project.id}")


def _problem(ref: InputRef, message: str) -> InvalidInput:
    return InvalidInput.on(f"inputs.{ref.name}", message)


def resolve(
    uow: UnitOfWork, actor: Actor, area: StorageArea | None, project: Project, spec: JobSpec
) -> tuple[StagedInput, ...]:
    """The spec's inputs resolved for ``actor`` (the submitter) in ``project``; every problem at once."""
    if not spec.inputs:
        return ()
    if area is None:
        raise InvalidInput.on("inputs", "this site has no project storage, so a job cannot take inputs")
    staged: list[StagedInput] = []
    errors: list[FieldError] = []
    for ref in spec.inputs:
        try:
            staged.append(
                _dataset(uow, actor, area, ref) if ref.kind == "dataset" else _storage(uow, area, project, ref)
            )
        except InvalidInput as exc:
            errors += exc.errors or [FieldError(f"inputs.{ref.name}", exc.message)]
    if errors:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise InvalidInput(f"invalid inputs: {detail}", errors)
    return tuple(staged)
