"""Reads and validates template folders. Every problem names the file and the field
(``…/hello-gpu/template.yaml: parameters.properties.n.default: 'x' is not of type 'integer'``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..domain.errors import InvalidInput
from ..domain.templates import check_template, defaults_of

BUILTIN_DIR = Path(__file__).parent / "templates"
TEMPLATE_FILE = "template.yaml"


class TemplateError(InvalidInput):
    """A template folder that cannot be used: the message names the file and the field."""


@dataclass(frozen=True)
class Template:
    doc: dict[str, Any]  # template.yaml, validated
    readme: str
    source: str  # builtin | site
    path: Path

    @property
    def name(self) -> str:
        return str(self.doc["name"])

    def details(self) -> dict[str, Any]:
        """What the catalog item stores (and a run reads)."""
        d = self.doc
        return {
            "parameters": d["parameters"],
            "defaults": defaults_of(d["parameters"]),
            "resources": d.get("resources", {}),
            "job": d["job"],
            "datasets": d.get("datasets", []),
            "source": self.source,
            "texts": self.texts(),
        }

    def texts(self) -> dict[str, dict[str, str]]:
        """Per language, the words the portal shows: ``title``, ``summary`` and ``how_it_works`` (Markdown,
        folded), from ``title_de``, ``summary_de``, ``how_it_works``, ``how_it_works_de``, …"""
        out: dict[str, dict[str, str]] = {}
        for key, value in self.doc.items():
            for field in ("title", "summary", "how_it_works"):
                if key == field == "how_it_works":
                    out.setdefault("en", {})[field] = str(value)
                elif key.startswith(field + "_") and len(key) == len(field) + 3:
                    out.setdefault(key[-2:], {})[field] = str(value)
        return out


def _read_yaml(file: Path) -> Any:
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{file}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise TemplateError(f"{file}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise TemplateError(f"{file}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None


def load_template(folder: Path, source: str) -> Template:
    file = folder / TEMPLATE_FILE
    doc = _read_yaml(file)
    try:
        check_template(doc)
    except InvalidInput as exc:
        raise TemplateError(f"{file}: {exc.message}", exc.errors) from None
    if doc["name"] != folder.name:
        raise TemplateError(f"{file}: name: {doc['name']!r} must be the folder's name ({folder.name!r})")
    readme = folder / "README.md"
    try:
        text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{readme}: cannot read it: {exc}") from None
    return Template(doc=doc, readme=text, source=source, path=folder)


def _folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / TEMPLATE_FILE).is_file())


def load_templates(site_dir: Path | None = None, *, builtin_dir: Path = BUILTIN_DIR) -> list[Template]:
    """The built-in templates, then the site's; a name given twice is an error naming both files."""
    if site_dir is not None and not site_dir.is_dir():
        raise TemplateError(f"{site_dir}: AIFACTORY_TEMPLATES_DIR is not a folder")
    found: dict[str, Template] = {}
    roots = [(builtin_dir, "builtin")] + ([(site_dir, "site")] if site_dir is not None else [])
    for root, source in roots:
        for folder in _folders(root) if root.is_dir() else []:
            template = load_template(folder, source)
            if template.name in found:
                raise TemplateError(
                    f"{folder / TEMPLATE_FILE}: name: template {template.name!r} is already "
                    f"defined by {found[template.name].path / TEMPLATE_FILE}"
                )
            found[template.name] = template
    return list(found.values())
