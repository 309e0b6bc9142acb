"""The README's ten-minute tour, run as written against a fresh demo: `./scripts/demo` in the background, then
every command of the tour in order, in a scratch folder holding the repository's `examples/`, with the password
the tour gives. Only the port changes (the demo runs on a free one). So the README cannot drift from the
product: a renamed option, a changed default or a broken step fails here."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aifactory.demo import DEMO_PASSWORD
from tests.support.live import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CLI = ".venv/bin/aifactory"
DEMO = "./scripts/demo"
DOCUMENTED_URL = "http://127.0.0.1:8000"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Tour:
    text: str  # the prose and code between the markers
    commands: list[str]  # the lines of its bash blocks, in order


def read_tour(readme: Path = README) -> Tour:
    text = readme.read_text(encoding="utf-8")
    match = re.search(r"<!-- tour:begin -->(.*?)<!-- tour:end -->", text, re.S)
    assert match, "the README has no <!-- tour:begin --> … <!-- tour:end --> section"
    body = match.group(1)
    blocks = re.findall(r"```bash\n(.*?)```", body, re.S)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    return Tour(body, commands)


def test_the_tour_holds_only_commands_a_newcomer_can_paste() -> None:
    tour = read_tour()
    assert tour.commands[0] == DEMO, "the tour starts the factory first"
    for line in tour.commands[1:]:
        assert line.startswith(f"{CLI} "), f"not a command of the factory's CLI: {line}"
        assert "<" not in line and "JOB" not in line, f"a placeholder the reader would have to fill in: {line}"
    assert f"password is `{DEMO_PASSWORD}`" in tour.text


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    """`./scripts/demo` as the tour starts it, on a free port and its own data folder; its base URL."""
    port = free_port()
    env = os.environ | {"AIFACTORY_DATA_DIR": str(tmp_path / "data")}
    env.pop("AIFACTORY_DATABASE_URL", None)
    log = (tmp_path / "demo.log").open("wb")
    proc = subprocess.Popen(
        [DEMO, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, tmp_path / "demo.log")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        log.close()


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the demo stopped:\n{log.read_text(errors='replace')}"
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the demo did not answer within {timeout}s:\n{log.read_text(errors='replace')}")


def _run(line: str, url: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(line.replace(DOCUMENTED_URL, url))
    argv[0] = str(ROOT / CLI)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_the_readme_tour_works_as_written(demo: str, tmp_path: Path) -> None:
    work = tmp_path / "clone"
    shutil.copytree(ROOT / "examples", work / "examples")
    env = os.environ | {
        "AIFACTORY_CONFIG_DIR": str(tmp_path / "config"),
        "AIFACTORY_PASSWORD": DEMO_PASSWORD,  # what the reader types when asked
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": "100",
        "NO_COLOR": "1",
    }
    for key in ("AIFACTORY_URL", "AIFACTORY_TOKEN", "AIFACTORY_DEBUG"):
        env.pop(key, None)
    outputs: dict[str, str] = {}
    for line in read_tour().commands[1:]:
        done = _run(line, demo, work, env)
        assert done.returncode == 0, f"{line}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stdout + done.stderr, line
        outputs[line] = done.stdout + done.stderr
    assert (work / "out" / "iris" / "metrics.json").is_file()
    report = work / "out" / "bakery" / "report.html"
    assert report.is_file() and "<html" in report.read_text(encoding="utf-8").lower()
    assert "accepted" in next(out for cmd, out in outputs.items() if "--submit" in cmd)
    assert "operator@jaif.example" in next(out for cmd, out in outputs.items() if "operator@" in cmd)
    assert httpx.get(f"{demo}/login", timeout=10).status_code == 200  # step 5: the portal's sign-in page
