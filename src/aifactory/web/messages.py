"""Every translatable string of the portal (templates and Python), extracted with Babel, and which of them
the German catalogs still lack: ``python -m aifactory.web.messages`` prints those as .po entries to fill in."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir

from ..domain.notifications import TEXTS
from .i18n import merged_catalog

WEB_DIR = Path(__file__).parent
METHODS = [
    ("templates/**.html", "jinja2.ext:babel_extract"),
    ("templates/**.txt", "jinja2.ext:babel_extract"),  # the plain-text e-mails (templates/email)
    ("**.py", "python"),
]
OPTIONS = {
    "templates/**.html": {"trim_blocks": "True", "lstrip_blocks": "True"},
    "templates/**.txt": {"trim_blocks": "True", "lstrip_blocks": "True"},
}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "t": None, "N_": None}


def extracted() -> dict[str, list[str]]:
    """msgid -> where it is used (file:line)."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        WEB_DIR, METHODS, keywords=KEYWORDS, options_map=OPTIONS
    ):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    for kind, msgid in TEXTS.items():  # the notifications' lines, declared by the domain and translated here
        found.setdefault(msgid, []).append(f"domain/notifications.py:TEXTS[{kind}]")
    return found


def missing(lang: str = "de") -> dict[str, list[str]]:
    catalog = merged_catalog(lang)
    return {msgid: where for msgid, where in extracted().items() if not _translated(catalog.get(msgid))}


def _translated(message: Message | None) -> bool:
    return message is not None and bool(message.string)


def _po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    todo = missing()
    for msgid, where in sorted(todo.items(), key=lambda kv: kv[1][0]):
        print(f'#: {" ".join(where[:3])}\nmsgid {_po_string(msgid)}\nmsgstr ""\n')
    print(f"# {len(todo)} message(s) without a German translation", file=sys.stderr)
    return 1 if todo else 0


if __name__ == "__main__":
    raise SystemExit(main())
