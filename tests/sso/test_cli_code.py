"""The command line client's sign-in through the portal and the API (both databases): confirmed on a page, the
provider's code exchanged by the factory, a one-time code sent to the client's loopback port, and an
ordinary API token only for the client that holds the verifier, once."""

from __future__ import annotations

from tests.support.api import Api, assert_problem
from tests.support.oidc import ADA, GRACE, walk
from tests.support.sso import CALLBACK, CliSide, browser, path_of, query


def _code_for(api: Api, cli: CliSide, login: str, password: str) -> str:
    web = browser(api)
    assert f"port {cli.port}" in web.get(cli.page()).text
    started = cli.confirm(web)
    assert started.status_code == 303, started.text
    answer = web.get(path_of(walk(started.headers["location"], CALLBACK, login, password)), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    loopback = answer.headers["location"]
    assert loopback.startswith(f"http://127.0.0.1:{cli.port}/callback?")
    assert query(loopback)["state"] == cli.state
    return query(loopback)["code"]


def test_the_client_redeems_its_code_once_with_its_verifier(sso_api: Api) -> None:
    cli = CliSide.new()
    code = _code_for(sso_api, cli, ADA[0], ADA[1])
    stranger = sso_api.post("/auth/sso/token", json={"code": code, "verifier": CliSide.new().verifier})
    assert_problem(stranger, 401)
    issued = sso_api.post("/auth/sso/token", json={"code": code, "verifier": cli.verifier, "ttl_days": 30})
    assert issued.status_code == 201, issued.text
    token = issued.json()
    assert token["token"].startswith("aif_") and token["name"] == "cli sso devaai"
    me = sso_api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert me.status_code == 200 and me.json()["email"] == ADA[3]
    assert_problem(sso_api.post("/auth/sso/token", json={"code": code, "verifier": cli.verifier}), 401)


def test_a_code_expires_and_an_unknown_one_says_nothing_more(sso_api: Api) -> None:
    cli = CliSide.new()
    code = _code_for(sso_api, cli, ADA[0], ADA[1])
    sso_api.clock.advance(minutes=3)
    late = sso_api.post("/auth/sso/token", json={"code": code, "verifier": cli.verifier})
    unknown = sso_api.post("/auth/sso/token", json={"code": "x" * 43, "verifier": cli.verifier})
    assert_problem(late, 401)
    assert_problem(unknown, 401)
    assert late.json()["detail"] == unknown.json()["detail"]


def test_a_new_person_names_their_organization_before_the_client_gets_its_code(sso_api: Api) -> None:
    cli = CliSide.new()
    web = browser(sso_api)
    started = cli.confirm(web)
    answer = web.get(path_of(walk(started.headers["location"], CALLBACK, GRACE[0], GRACE[1])), follow_redirects=False)
    assert answer.headers["location"] == "/sso/welcome"
    web.get("/sso/welcome")
    fields = {"organization": "Hopper Tools", "kind": "startup", "country": "US", "name": "Grace Hopper"}
    done = web.post("/sso/welcome", fields)
    assert done.status_code == 303 and done.headers["location"].startswith(f"http://127.0.0.1:{cli.port}/callback?")
    code = query(done.headers["location"])["code"]
    assert sso_api.post("/auth/sso/token", json={"code": code, "verifier": cli.verifier}).status_code == 201


def test_bad_client_parameters_get_a_readable_page(sso_api: Api) -> None:
    web = browser(sso_api)
    cli = CliSide.new()
    for bad in (cli.page().replace(f"port={cli.port}", "port=80"), cli.page().replace("challenge=", "challenge=x")):
        page = web.get(bad)
        assert page.status_code == 422 and "Sign-in refused" in page.text


def test_only_a_person_who_saw_the_confirmation_page_continues(sso_api: Api) -> None:
    cli = CliSide.new()
    continued = cli.page().replace("/cli?", "/cli/continue?")
    for token in ("", "&csrf_token=" + "0" * 64):  # a link made elsewhere: no token, or another browser's
        page = browser(sso_api).get(continued + token, follow_redirects=False)
        assert page.status_code == 403 and "Form refused" in page.text


def test_the_providers_the_client_may_choose(sso_api: Api) -> None:
    answer = sso_api.get("/auth/sso/providers")
    assert answer.status_code == 200
    assert answer.json() == [{"name": "devaai", "title": "Dev AAI"}, {"name": "otheraai", "title": "Other AAI"}]
