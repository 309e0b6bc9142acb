"""The typed client: retries and backoff, error classes, transport errors, paging; against
``httpx.MockTransport`` and against the real app through an injected ``TestClient``."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator

import httpx
import pytest

from aifactory.api.app import create_app
from aifactory.client import (
    AifactoryClient,
    ApiError,
    AuthError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
    api_base,
)
from aifactory.config import Settings
from aifactory.demo import DemoInfo
from tests.support.cli import BAKERY, OPERATOR

PROBLEM = {
    "type": "about:blank",
    "title": "Invalid input",
    "status": 422,
    "detail": "requested_gpu_hours: must be at least 1",
    "errors": [{"field": "requested_gpu_hours", "message": "must be at least 1"}],
}


class Script:
    """A MockTransport handler answering from a list of (status, json, headers); records what it saw."""

    def __init__(self, *answers: tuple[int, object, dict[str, str]] | Exception):
        self.answers, self.requests = list(answers), []  # type: ignore[var-annotated]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        return httpx.Response(status, json=body, headers=headers)


def client_for(script: Script, sleeps: list[float], **kw: object) -> AifactoryClient:
    return AifactoryClient(
        "http://factory.example", "aif_token", transport=httpx.MockTransport(script), sleep=sleeps.append, **kw
    )  # type: ignore[arg-type]


def ok(body: object = None) -> tuple[int, object, dict[str, str]]:
    return 200, body if body is not None else {"status": "ok"}, {}


def test_503_then_200_is_one_success_after_a_backoff() -> None:
    script, sleeps = Script((503, {"title": "Unavailable"}, {}), ok()), []
    assert client_for(script, sleeps).health() == {"status": "ok"}
    assert len(script.requests) == 2 and sleeps == [0.5]
    assert script.requests[0].headers["authorization"] == "Bearer aif_token"
    assert str(script.requests[0].url) == "http://factory.example/api/v1/health"


def test_backoff_grows_exponentially_and_retry_after_is_honoured() -> None:
    script, sleeps = Script((502, {}, {}), (504, {}, {}), (429, {}, {"Retry-After": "7"}), ok()), []
    client_for(script, sleeps).me()
    assert sleeps == [0.5, 1.0, 7.0]


def test_retries_are_limited_then_the_error_is_raised() -> None:
    script, sleeps = Script(*[(503, {"title": "Service Unavailable", "detail": "down"}, {})] * 3), []
    with pytest.raises(ServerError) as exc:
        client_for(script, sleeps, retries=2).me()
    assert exc.value.status == 503 and str(exc.value) == "503 Service Unavailable: down"
    assert len(script.requests) == 3


def test_429_for_a_post_is_retried_and_finally_a_rate_limit_error() -> None:
    script, sleeps = Script((429, {"title": "Too many"}, {"Retry-After": "1"}), (429, {"title": "Too many"}, {})), []
    with pytest.raises(RateLimitError):
        client_for(script, sleeps, retries=1).submit_proposal(3)
    assert [r.method for r in script.requests] == ["POST", "POST"] and sleeps == [1.0]


def test_422_is_not_retried_and_keeps_the_field_errors() -> None:
    script, sleeps = Script((422, PROBLEM, {})), []
    with pytest.raises(ValidationError) as exc:
        client_for(script, sleeps).create_proposal({"requested_gpu_hours": 0})
    err = exc.value
    assert len(script.requests) == 1 and sleeps == []
    assert (err.status, err.title, err.detail) == (422, "Invalid input", "requested_gpu_hours: must be at least 1")
    assert err.errors == PROBLEM["errors"]
    assert str(err) == "422 Invalid input: requested_gpu_hours: must be at least 1"


def test_500_is_retried_for_get_only() -> None:
    script, sleeps = Script((500, {"title": "Internal error"}, {}), ok()), []
    assert client_for(script, sleeps).me() == {"status": "ok"}
    script, sleeps = Script((500, {"title": "Internal error"}, {}), ok()), []
    with pytest.raises(ServerError):
        client_for(script, sleeps).create_token("x")
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthError),
        (403, AuthError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (418, BadRequestError),
        (501, ServerError),
    ],
)
def test_error_classes_by_status(status: int, cls: type[ApiError]) -> None:
    with pytest.raises(cls) as exc:
        client_for(Script((status, {"title": "T", "detail": "D"}, {})), [], retries=0).get_call(1)
    assert exc.value.status == status and isinstance(exc.value, ApiError)


def test_non_json_error_bodies_still_give_a_clear_error() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    client = AifactoryClient("http://x.example", transport=httpx.MockTransport(handler), retries=0)
    with pytest.raises(ServerError, match=r"^502 Bad Gateway: <html>Bad Gateway</html>$"):
        client.health()


def test_a_non_json_success_names_the_url() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>welcome</html>", headers={"content-type": "text/html"})

    client = AifactoryClient("http://x.example", transport=httpx.MockTransport(handler))
    with pytest.raises(ApiError, match=r"http://x.example/api/v1/me answered text/html, not JSON"):
        client.me()


def test_connect_errors_are_retried_even_for_post_then_success() -> None:
    script, sleeps = Script(httpx.ConnectError("refused"), ok({"id": 1})), []
    assert client_for(script, sleeps).create_token("x") == {"id": 1}
    assert sleeps == [0.5]


def test_read_timeouts_are_not_retried_for_post() -> None:
    script = Script(httpx.ReadTimeout("slow"), ok())
    with pytest.raises(TransportError, match="slow"):
        client_for(script, []).submit_proposal(1)
    assert len(script.requests) == 1


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A local port nobody listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    yield f"http://127.0.0.1:{port}"


def test_connection_refused_is_a_transport_error_naming_the_url(refused_url: str) -> None:
    sleeps: list[float] = []
    client = AifactoryClient(refused_url, "aif_x", retries=2, sleep=sleeps.append)
    with pytest.raises(TransportError) as exc:
        client.list_proposals()
    assert exc.value.url == f"{refused_url}/api/v1/proposals"
    assert str(exc.value).startswith(f"cannot reach {refused_url}/api/v1/proposals: ")
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize("url", ["http://h:8000", "http://h:8000/", "http://h:8000/api/v1", " http://h:8000/api/v1/ "])
def test_base_url_forms(url: str) -> None:
    assert api_base(url) == "http://h:8000/api/v1"


# -- against the real app, through an injected TestClient -----------------------------------------------


@pytest.fixture
def app_client(seeded_url: tuple[str, DemoInfo], tmp_path) -> Iterator[Callable[[str], AifactoryClient]]:
    with warnings.catch_warnings():  # newer Starlette nudges towards httpx2; the TestClient is still an httpx.Client
        warnings.filterwarnings("ignore", message="Using `httpx` with")
        from fastapi.testclient import TestClient
    db_url, info = seeded_url
    with TestClient(create_app(Settings(database_url=db_url, data_dir=tmp_path / "data"))) as http:
        yield lambda email: AifactoryClient("http://testserver", info.tokens[email], http=http)


def test_iter_proposals_walks_every_page(app_client: Callable[[str], AifactoryClient]) -> None:
    op = app_client(OPERATOR)
    walked = [p["id"] for p in op.iter_proposals(page_size=2)]
    assert sorted(walked) == [1, 2, 3, 4, 5] and len(set(walked)) == 5
    assert op.list_proposals(limit=2)["total"] == 5


def test_typed_errors_from_the_real_app(app_client: Callable[[str], AifactoryClient]) -> None:
    bakery = app_client(BAKERY)
    with pytest.raises(NotFoundError):
        bakery.get_proposal(2)  # another organization's
    with pytest.raises(AuthError) as exc:
        bakery.audit()
    assert exc.value.status == 403
    with pytest.raises(ValidationError) as vexc:
        bakery.create_proposal(
            {"call_id": 1, "title": "", "requested_gpu_hours": 0, "resource_id": 1, "duration_months": 1}
        )
    assert {e["field"] for e in vexc.value.errors} >= {"requested_gpu_hours"}
    with pytest.raises(ConflictError):
        app_client(OPERATOR).decide(4, "accept")  # a draft


def test_remove_member_answers_none_for_204(app_client: Callable[[str], AifactoryClient]) -> None:
    bakery = app_client(BAKERY)
    (project,) = bakery.list_projects()["items"]
    member = next(m for m in project["members"] if m["role"] == "member")
    assert bakery.remove_member(project["id"], member["user_id"]) is None
    assert len(bakery.get_project(project["id"])["members"]) == len(project["members"]) - 1


# -- the one retry loop, for every kind of exchange ------------------------------------------------------


def test_a_yaml_spec_is_retried_like_any_post(tmp_path) -> None:
    spec = tmp_path / "job.yaml"
    spec.write_text("name: x\nproject: 1\ncommand: [true]\n")
    script, sleeps = Script((503, {"title": "Unavailable"}, {}), (201, {"id": 7}, {})), []
    assert client_for(script, sleeps).submit(spec) == {"id": 7}
    assert [r.headers["content-type"] for r in script.requests] == ["application/yaml"] * 2 and sleeps == [0.5]
    assert script.requests[1].content == spec.read_bytes()
    script = Script(httpx.ReadTimeout("slow"), (201, {"id": 8}, {}))
    with pytest.raises(TransportError, match="slow"):  # it may have arrived: not sent twice
        client_for(script, []).submit(spec)
    assert len(script.requests) == 1


def test_a_download_is_retried_after_a_503_and_after_a_broken_body(tmp_path) -> None:
    content = b"weights" * 20_000
    digest = hashlib.sha256(content).hexdigest()
    answers: list[object] = [503, "broken", 200]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if answer == 503:
            return httpx.Response(503, json={"title": "Unavailable"})
        if answer == "broken":

            def halfway() -> Iterator[bytes]:
                yield content[:1000]
                raise httpx.ReadError("connection reset")

            return httpx.Response(200, content=halfway())
        return httpx.Response(200, content=content, headers={"content-length": str(len(content))})

    sleeps: list[float] = []
    client = AifactoryClient("http://x.example", transport=httpx.MockTransport(handler), sleep=sleeps.append)
    seen: list[tuple[int, int | None]] = []
    path = client.download_artifact(
        3, "model.bin", tmp_path / "model.bin", sha256=digest, progress=lambda d, t: seen.append((d, t))
    )
    assert path.read_bytes() == content and not list(tmp_path.glob("*.part"))
    assert sleeps == [0.5, 1.0] and seen[-1] == (len(content), len(content))


def test_a_download_that_keeps_failing_leaves_no_file(tmp_path) -> None:
    script, sleeps = Script(*[(502, {"title": "Bad gateway"}, {})] * 2), []
    with pytest.raises(ServerError):
        client_for(script, sleeps, retries=1).download_artifact(3, "model.bin", tmp_path / "model.bin")
    assert len(script.requests) == 2 and not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "module", ["base", "errors", "identity", "calls", "proposals", "projects", "jobs", "logs", "artifacts", "catalog"]
)
def test_each_client_module_imports_on_its_own(module: str) -> None:
    """No import cycle: any module of the package can be imported first, in a fresh interpreter."""
    run = subprocess.run([sys.executable, "-c", f"import aifactory.client.{module}"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
