"""Markdown through markdown-it-py and nh3: the constructs the hand-written renderer got wrong (fences, lists,
emphasis, tables, a bare ``|---|``), what the sanitizer lets through (links with safe schemes only), and a
story body rendered by the real story page."""

from __future__ import annotations

import re

import pytest

from aifactory.web.text import markdown, sanitize
from tests.support.portal import Portal
from tests.web.test_operator_web import _call_form as call_form

TAG = re.compile(r"<[^>]*>")


def test_a_code_fence_is_one_preformatted_block_with_its_text_escaped() -> None:
    html = str(markdown("Run:\n\n```bash\necho '<hi>' && ls *.csv\n```\n"))
    assert "<pre><code>echo '&lt;hi&gt;' &amp;&amp; ls *.csv\n</code></pre>" in html
    assert "``" not in html and "bash" not in html


def test_a_list_with_a_continuation_line_and_blank_lines_stays_one_list() -> None:
    html = str(markdown("- one\n  still one\n- two\n\n- three\n\n1. first\n2. second"))
    assert html.count("<ul>") == 1 and html.count("<li>") == 5
    assert "one\nstill one" in html
    assert "<ol>" in html and "<li>first</li>" in html


def test_emphasis_strong_and_strikethrough_become_tags() -> None:
    html = str(markdown("Some *emphasis*, _more_, **strong** and ~~gone~~; a lone * star."))
    assert "<em>emphasis</em>" in html and "<em>more</em>" in html and "<strong>strong</strong>" in html
    assert "<s>gone</s>" in html and "lone * star" in html


def test_a_table_has_a_head_a_body_and_a_scrolling_wrapper() -> None:
    html = str(markdown("| Branch | Loaves |\n|:--|--:|\n| Nord | 1,200 |\n| Süd | 950 |"))
    assert html.startswith('<div class="table-wrap"><table>')
    assert "<th>Branch</th>" in html and "<td>Süd</td>" in html and html.count("<tr>") == 3
    assert "style=" not in html  # the CSP forbids inline styles: column alignment is dropped


@pytest.mark.parametrize("text", ["|---|", "| --- | :-: |", "|\n|---|", "| a |\n|---|"])
def test_a_bare_table_rule_renders_as_text_or_an_empty_table(text: str) -> None:
    html = str(markdown(text))
    assert "<table>" not in html or "<th>" in html


def test_headings_move_one_level_below_the_page_title() -> None:
    html = str(markdown("# One\n## Two\n###### Six"))
    assert "<h2>One</h2>" in html and "<h3>Two</h3>" in html and "<h6>Six</h6>" in html and "<h1>" not in html


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox)",
        "<javascript:alert(1)>",
        "[x](/relative/path)",
        '[x](https://ok.example "t" onmouseover=alert(1))',
    ],
)
def test_links_keep_only_http_https_and_mailto_targets(text: str) -> None:
    tags = TAG.findall(str(markdown(text)))
    assert tags and all(t in ("<p>", "</p>", "</a>", '<a rel="noopener nofollow">') for t in tags), tags


def test_safe_links_get_rel_noopener_nofollow() -> None:
    html = str(markdown("[site](https://example.org/a?b=1&c=2) and <mailto:info@example.org>"))
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener nofollow">site</a>' in html
    assert 'href="mailto:info@example.org" rel="noopener nofollow"' in html


def test_raw_html_and_images_never_pass() -> None:
    html = str(markdown('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n![a <b>](http://x/t.png "t")'))
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert "a &lt;b&gt;" in html  # an image shows as its alt text


def test_the_sanitizer_removes_what_markdown_would_never_make() -> None:
    html = sanitize('<p onclick="x()" style="color:red" class="evil">a</p><iframe src="x"></iframe><div class="x">b')
    assert html.startswith("<p>a</p><div") and "iframe" not in html and "x" not in html


def test_a_story_page_renders_every_construct_and_no_markup_from_the_body(portal: Portal) -> None:
    body = (
        "# Results\n\nWe cut *waste* by **18%**.\n\n- fewer returns\n  every day\n- fresher bread\n\n"
        "```bash\naifactory submit job.yaml\n```\n\n| Branch | Waste |\n|---|---|\n| Nord | 12% |\n\n"
        "<script>alert(1)</script> [more](javascript:alert(1))\n\n|---|"
    )
    item = portal.api.ok(
        "POST",
        "/catalog",
        "claire",
        status=201,
        json={"kind": "story", "slug": "md-story", "title": "Less waste", "visibility": "public", "body": body},
    )
    portal.api.ok("POST", f"/catalog/items/{item['id']}/decision", "operator", json={"decision": "approve"})
    r = portal.browser().get("/stories/md-story")
    assert r.status_code == 200
    assert "<h2>Results</h2>" in r.text and "<em>waste</em>" in r.text and "<strong>18%</strong>" in r.text
    assert "<li>fewer returns\nevery day</li>" in r.text and "<pre><code>aifactory submit job.yaml" in r.text
    assert "<td>Nord</td>" in r.text and "<p>|---|</p>" in r.text and "``" not in r.text
    assert "<script>alert(1)" not in r.text and 'href="javascript:' not in r.text


def test_a_call_description_is_markdown_on_the_public_call_page(portal: Portal) -> None:
    description = "## Who may apply\n\n- SMEs\n- startups\n\n*Deadline*: `2026-04-01`\n\n<img src=x onerror=alert(1)>"
    web = portal.browser("operator")
    assert web.post("/operator/calls", call_form(portal, description=description)).status_code == 303
    with portal.api.uow_factory(write=False) as uow:
        call = uow.calls.by_slug("spring-2026")
    page = portal.browser().get(f"/calls/{call.id}").text
    assert "<h3>Who may apply</h3>" in page and "<li>SMEs</li>" in page and "<em>Deadline</em>" in page
    assert "<code>2026-04-01</code>" in page and "<img" not in page and "&lt;img src=x" in page


def test_the_longest_stored_body_of_brackets_and_stars_renders_as_text() -> None:
    for body in ("[" * 20_000, "*a" * 10_000, "> " * 10_000 + "deep"):
        html = str(markdown(body))
        assert "<a" not in html and html.startswith(("<p>", "<blockquote>"))
    assert markdown("x" * 150_000).count("x") == 100_000  # longer texts are cut, not rendered whole
