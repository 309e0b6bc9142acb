"""An operator gives a call its words in German from the CLI (one option per field, a file for a long
description); a bad option is a one-line message."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import OPERATOR, Cli
from tests.support.live import LiveServer


def test_an_operator_sets_a_calls_german_words(live_cli: Cli, live: LiveServer, tmp_path: Path) -> None:
    cli, call = live_cli, live.info.call_ids["large_scale"]
    text = tmp_path / "beschreibung.md"
    text.write_text("Für **große** Vorhaben.\n", encoding="utf-8")
    shown = cli(
        "calls", "update", call, "--text", "de.title=Große Vorhaben", "--text", f"de.description=@{text}", as_=OPERATOR
    ).stdout
    assert "In other languages" in shown and "de" in shown
    got = cli.json("calls", "show", call, as_=OPERATOR)["texts"]["de"]
    assert got == {"title": "Große Vorhaben", "description": "Für **große** Vorhaben."}
    cli("calls", "update", call, "--text", "de.title=", as_=OPERATOR)  # back to the call's own title
    assert cli.json("calls", "show", call, as_=OPERATOR)["texts"]["de"] == {"description": "Für **große** Vorhaben."}
    err = cli("calls", "update", call, "--text", "de.summary=Kurz", as_=OPERATOR, code=2).stderr
    assert "LANG.title=TEXT" in err and "Traceback" not in err
    assert "texts.deu.[key]" in cli.fails("calls", "update", call, "--text", "deu.title=Titel", as_=OPERATOR)
