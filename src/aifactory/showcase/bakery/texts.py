"""Every sentence of the report in English and German (``texts.yaml``), and numbers written the way each
language writes them."""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

import yaml

from .metrics import Headline

LANGUAGES = ("en", "de")


@cache
def _texts() -> dict[str, dict[str, dict[str, str]]]:
    """``texts.yaml`` (shipped next to this module): sentences and feature names, each in every language."""
    doc: dict[str, dict[str, dict[str, str]]] = yaml.safe_load(
        (resources.files("aifactory.showcase.bakery") / "texts.yaml").read_text(encoding="utf-8")
    )
    return doc


def t(lang: str, key: str, **values: object) -> str:
    """The sentence ``key`` in ``lang`` with its placeholders filled."""
    text = _texts()["sentences"][key][lang]
    return text.format(**values) if values else text


def name_of(lang: str, feature: str) -> str:
    names = _texts()["feature_names"].get(feature)
    return names[lang] if names else feature


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def num(lang: str, x: float | None, digits: int = 0) -> str:
    """12,345.6 in English, 12.345,6 in German; n/a where there is no number."""
    if not _finite(x):
        return "n/a" if lang == "en" else "k. A."
    assert x is not None
    text = f"{x:,.{digits}f}"
    return text if lang == "en" else text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def pct(lang: str, share: float | None, digits: int = 1) -> str:
    """0.353 -> '35.3 %' (English) or '35,3 %' (German)."""
    return f"{num(lang, 100 * share, digits)} %" if share is not None and _finite(share) else num(lang, None)


def change(lang: str, reduction: float | None) -> str:
    """A waste reduction as '35.3 % less' / '17.3 % more' (German: weniger / mehr)."""
    if reduction is None or not _finite(reduction):
        return num(lang, None)
    return t(lang, "less" if reduction >= 0 else "more", pct=pct(lang, abs(reduction)))


def title(lang: str, overall: Headline) -> str:
    """The report's title: the headline result, better or worse, and the range where windows disagree."""
    r = overall["waste_reduction"]
    if not _finite(r):
        return t(lang, "title_none")
    key = "title_same" if abs(r) < 0.005 else "title_less" if r > 0 else "title_more"
    text = t(lang, key, pct=pct(lang, abs(r)))
    s = overall["spread"]
    if s["windows"] > 1 and s["min"] < 0 < s["max"]:
        text += t(lang, "title_varies", low=change(lang, s["max"]), high=change(lang, s["min"]))
    return text
