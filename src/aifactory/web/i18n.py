"""German and English: every string of the portal goes through gettext; the German catalogs are the ``.po``
files under ``locale/de/LC_MESSAGES`` (one per part of the portal, merged here), compiled in memory at start."""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"


def merged_catalog(lang: str) -> Catalog:
    """All ``.po`` files of a language as one catalog (later files do not override earlier ones)."""
    merged = Catalog(locale=lang)
    for po in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh, locale=lang):
                if message.id and message.string and message.id not in merged:
                    merged.add(message.id, message.string, context=message.context)
    return merged


@cache
def translations(lang: str) -> gettext.NullTranslations:
    if lang == DEFAULT_LANGUAGE or lang not in LANGUAGES:
        return gettext.NullTranslations()
    buf = BytesIO()
    write_mo(buf, merged_catalog(lang))
    buf.seek(0)
    return Translations(fp=buf)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The remembered choice, else the browser's first supported language, else English."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Translator:
    lang: str

    def gettext(self, message: str, **values: object) -> str:
        text = translations(self.lang).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = translations(self.lang).ngettext(singular, plural, n)
        return text % {"num": n, **values}
