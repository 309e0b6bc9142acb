"""Hostile artifacts for the portal's result viewer (tests/web and tests/browser): an HTML report that tries
everything a page can do (scripts, event handlers, forms, meta refresh, <base>, javascript: links, an SVG with
a script, a fetch to the portal), an SVG image with a script, a CSV whose cells hold markup, a real PNG; and a
job spec that writes given files as its artifacts."""

from __future__ import annotations

import base64
import json
import struct
import sys
import zlib
from typing import Any


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (11, 83, 148)) -> bytes:
    """A valid PNG of one colour (made here, so that no image library is needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


PNG = png()
PNG_DATA_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
MARKER = "report-script-ran"  # what any script of the report would write, set or fetch

HOSTILE_REPORT = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Forecast report</title>
<meta http-equiv="refresh" content="0; url=/projects?{MARKER}=refresh">
<base href="https://attacker.example/">
<style>h1 {{ color: #0b5394; }}</style>
<script>document.title = "{MARKER}"; document.cookie = "{MARKER}=1; path=/";
fetch("/api/v1/jobs?{MARKER}=fetch"); parent.document.title = "{MARKER}";</script>
</head><body>
<h1 id="headline">Bake 12 % less waste</h1>
<p id="status">static text</p>
<script>document.getElementById("status").textContent = "{MARKER}";</script>
<img id="chart" alt="weekly waste" src="{PNG_DATA_URL}" onload="document.title='{MARKER}'">
<img id="remote" alt="remote" src="/static/app.css?{MARKER}=img">
<a id="js-link" href="javascript:document.title='{MARKER}'">details</a>
<a id="rel-link" href="more.html">more</a>
<form id="steal" method="post" action="/logout"><input name="q" value="x"><button id="send">Send</button></form>
<svg width="10" height="10"><script>document.title = "{MARKER}";</script><rect width="10" height="10"/></svg>
<iframe id="inner" src="/projects?{MARKER}=iframe"></iframe>
</body></html>
"""

HOSTILE_SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20" onload="alert('{MARKER}')">
<script>fetch("/api/v1/jobs?{MARKER}=svg")</script><rect width="20" height="20" fill="#a04a00"/></svg>
"""

MARKUP_CSV = (
    'product,units,note\nBrötchen,120,"<script>alert(1)</script>"\nBrezel,80,"a ""quoted"", <b>bold</b> cell"\n'
)


def artifact_spec(
    project: int, files: dict[str, bytes], *, sized: dict[str, int] | None = None, name: str = "results"
) -> dict[str, Any]:
    """A job (one GPU, 5 minutes) that writes ``files`` (relative paths) in its working directory, and files of
    zeros of the ``sized`` sizes; its outputs are all of them."""
    blob = base64.b64encode(json.dumps({p: base64.b64encode(b).decode() for p, b in files.items()}).encode()).decode()
    code = (
        "import base64, json, pathlib\n"
        f"files = json.loads(base64.b64decode('{blob}'))\n"
        "for p, b in files.items():\n"
        "    f = pathlib.Path(p); f.parent.mkdir(parents=True, exist_ok=True); f.write_bytes(base64.b64decode(b))\n"
        f"for p, n in {sized or {}!r}.items():\n"
        "    pathlib.Path(p).write_bytes(bytes(n))\n"
        "print('wrote', sorted(files))\n"
    )
    return {
        "name": name,
        "project": project,
        "command": [sys.executable, "-c", code],
        "resources": {"gpus_per_node": 1, "time": 5},
        "outputs": ["*"],
    }
