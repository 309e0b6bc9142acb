"""Small pure pieces of the portal: number formatting, the safe Markdown subset, the template form's
coercion, next-URL checks, language negotiation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aifactory.domain.errors import InvalidInput
from aifactory.web.i18n import Translator, negotiate
from aifactory.web.params_form import coerce, param_fields
from aifactory.web.render import gpu_hours_text
from aifactory.web.security import csrf_token, csrf_valid, safe_next
from aifactory.web.text import markdown


@pytest.mark.parametrize(
    "value, text", [(None, "–"), (0, "0.0"), (1 / 3600, "0.0003"), (2.5, "2.500"), (1234.56, "1,234.6"), (500, "500.0")]
)
def test_gpu_hours_keep_small_charges_visible(value, text) -> None:
    assert gpu_hours_text(value) == text


def test_markdown_escapes_everything_and_keeps_the_structure() -> None:
    html = markdown(
        "# Title <b>\n\nSome **bold** and `code` <script>x</script>\n\n- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | <i>2</i> |"
    )
    assert "<h2>Title &lt;b&gt;</h2>" in html and "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<i>" not in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html and "<td>&lt;i&gt;2&lt;/i&gt;</td>" in html


def test_template_parameters_become_typed_values_named_like_the_schema_checks() -> None:
    fields = param_fields(
        {
            "properties": {
                "n": {"type": "integer", "minimum": 1, "maximum": 9, "default": 2},
                "x": {"type": "number"},
                "flag": {"type": "boolean"},
                "mode": {"enum": ["a", "b"]},
                "s": {"type": "string"},
            },
            "required": ["s"],
        }
    )
    assert [(f.name, f.kind, f.required) for f in fields] == [
        ("n", "integer", False),
        ("x", "number", False),
        ("flag", "boolean", False),
        ("mode", "choice", False),
        ("s", "string", True),
    ]
    assert coerce(fields, {"params.n": " 3 ", "params.x": "0.5", "params.flag": "on", "params.s": "hi"}) == {
        "n": 3,
        "x": 0.5,
        "flag": True,
        "s": "hi",
    }
    assert coerce(fields, {}) == {"flag": False}  # empty fields: the defaults apply
    with pytest.raises(InvalidInput) as err:
        coerce(fields, {"params.n": "2.5", "params.x": "lots"})
    assert [e.field for e in err.value.errors] == ["params.n", "params.x"]


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/projects/3", "/projects/3"),
        ("/a?b=c", "/a?b=c"),
        (None, "/"),
        ("https://evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/x\r\nSet-Cookie: a=b", "/"),
    ],
)
def test_only_local_paths_are_followed(target, expected) -> None:
    assert safe_next(target) == expected


def test_csrf_tokens_are_bound_to_key_and_seed() -> None:
    token = csrf_token("key", "seed")
    assert csrf_valid("key", "seed", token)
    assert not csrf_valid("other-key", "seed", token) and not csrf_valid("key", "other-seed", token)
    assert not csrf_valid("key", "seed", None) and not csrf_valid("key", None, token)


def test_language_is_the_cookie_then_the_browser_then_english() -> None:
    assert negotiate("de", "en-US") == "de"
    assert negotiate(None, "fr-FR, de;q=0.8") == "de"
    assert negotiate("xx", "fr") == "en"
    assert Translator("de").gettext("Sign in") == "Anmelden"
    assert Translator("en").gettext("Sign in") == "Sign in"


@pytest.mark.parametrize("text", ["|---|", "| --- | :-: |", "- ", "* ", "  |", "|\n|", "#", "- a\n|---|\n- b"])
def test_markdown_renders_degenerate_blocks_without_error(text: str) -> None:
    html = str(markdown(text))
    assert "<table>" not in html or "<th>" in html  # a table without rows is no table


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("|-*#: `ab<>\n")), max_size=60))
def test_markdown_renders_any_text_and_lets_no_tag_through(text: str) -> None:
    html = str(markdown(text))  # terminates and never raises
    assert "<a" not in html and "<b>" not in html
