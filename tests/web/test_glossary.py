"""One German register and terminology across every catalog (the glossary in docs/portal.md): "Ausschreibung"
for a call, the polite "Sie", no gender star/colon/slash/capital-I forms (neutral wording instead), and each
English term with its one German word."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from aifactory.web.i18n import LOCALE_DIR

PO_FILES = sorted((LOCALE_DIR / "de" / "LC_MESSAGES").glob("*.po"))

# the glossary (docs/portal.md): English term -> its one German word, and the words that must not stand for it
GLOSSARY = {
    "call": ("Ausschreibung", r"\bAufruf\w*|\bCalls?\b"),
    "proposal": ("Antrag", r"\bProposal\w*|\bAntragsvorschl\w*"),
    "GPU-hour": ("GPU-Stunde", r"\bGPU-(Std|Hours?)\b|\bGPU-Zeitstunde\w*"),
    "reviewer": ("Gutachter", r"\bReviewer\w*|\bPrüfer\w*"),
    "operator": ("Betreiber", r"\bOperator\w*"),
    "allocation": ("Kontingent", r"\bAllocation\w*|\bAllokation\w*|\bZuteilung\w*"),
}

# forbidden in any German msgstr: (pattern, why)
FORBIDDEN = [
    (re.compile(r"\b(du|dich|dir|dein\w*|euch|euer|eure\w*|Du|Dich|Dir|Dein\w*)\b"), 'address people as "Sie"'),
    (re.compile(r"\w(\*|:|_|/-?)in(nen)?\b"), "no gender star, colon, underscore or slash: use neutral words"),
    (re.compile(r"[a-zäöü]Innen\b"), "no capital-I gender form: use neutral words"),
] + [(re.compile(wrong), f"{english!r} is {german!r}") for english, (german, wrong) in GLOSSARY.items()]


def _messages(po: Path) -> list[tuple[str, str]]:
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="de")
    out = []
    for m in catalog:
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        out += [(ids[0], s) for s in strings]
    return out


def test_there_are_catalogs_to_check() -> None:
    assert len(PO_FILES) >= 5 and sum(len(_messages(p)) for p in PO_FILES) > 300


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: p.name)
def test_no_forbidden_term_or_mixed_form(po: Path) -> None:
    found = [
        f"{po.name}: {msgid!r} -> {text!r}: {why}"
        for msgid, text in _messages(po)
        for pattern, why in FORBIDDEN
        if pattern.search(text)
    ]
    assert found == []


def test_the_glossary_checks_catch_what_it_forbids() -> None:
    def flagged(text: str) -> bool:
        return any(p.search(text) for p, _why in FORBIDDEN)

    assert flagged("Offene Aufrufe") and flagged("Kannst du das?") and flagged("Kolleg*innen")
    assert flagged("Nutzer:innen") and flagged("NutzerInnen") and flagged("Der Operator entscheidet")
    assert flagged("Offene Calls") and flagged("500 GPU-Std")
    assert not flagged("Offene Ausschreibungen: Sie können sich bewerben.")
