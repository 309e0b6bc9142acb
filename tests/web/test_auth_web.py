"""Sign-in, sign-out, sign-up, sessions and CSRF through the portal's forms."""

from __future__ import annotations

from sqlalchemy import select

from aifactory.demo import DEMO_PASSWORD
from aifactory.domain.identity import User, WebSession
from tests.support.demo import PEOPLE
from tests.support.portal import Portal


def test_sign_in_with_password_sets_an_httponly_session_cookie_and_shows_the_name(portal: Portal) -> None:
    web = portal.browser()
    web.get("/login")
    r = web.post("/login", {"email": PEOPLE["anna"], "password": DEMO_PASSWORD, "next": "/projects"})
    assert r.status_code == 303 and r.headers["location"] == "/projects"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("aif_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = web.get("/")
    assert "Anna Petersen" in page.text and "Sign out" in page.text


def test_wrong_password_is_refused_with_a_message_next_to_the_field(portal: Portal) -> None:
    web = portal.browser()
    web.get("/login")
    r = web.post("/login", {"email": PEOPLE["anna"], "password": "not-the-password"})
    assert r.status_code == 401
    assert 'aria-invalid="true"' in r.text and "Wrong e-mail address or password" in r.text
    assert "aif_session" not in r.cookies


def test_an_api_token_signs_in_too(portal: Portal) -> None:
    web = portal.browser()
    web.get("/login")
    r = web.post("/login", {"email": "", "password": portal.api.info.tokens[PEOPLE["daan"]]})
    assert r.status_code == 303
    assert "Daan de Vries" in web.get("/").text


def test_login_never_redirects_off_site(portal: Portal) -> None:
    web = portal.browser()
    web.get("/login")
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"):
        web.get("/login")
        r = web.post("/login", {"email": PEOPLE["anna"], "password": DEMO_PASSWORD, "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/", target
        web.client.cookies.clear()


def test_missing_or_forged_csrf_token_is_refused_and_nothing_is_written(portal: Portal) -> None:
    web = portal.browser()
    web.get("/signup")
    before = portal.api.counts()
    data = {
        "organization": "Forged GmbH",
        "kind": "sme",
        "country": "DE",
        "name": "Eve",
        "email": "eve@forged.example",
        "password": "long-enough-pass",
        "password2": "long-enough-pass",
    }
    missing = web.client.post("/signup", data=data, follow_redirects=False)
    forged = web.client.post("/signup", data={**data, "csrf_token": "0" * 64}, follow_redirects=False)
    other = portal.browser()
    stolen = web.client.post("/signup", data={**data, "csrf_token": other.csrf()}, follow_redirects=False)
    for r in (missing, forged, stolen):
        assert r.status_code == 403 and "Nothing was saved" in r.text
    assert portal.api.counts() == before


def test_sign_up_creates_organization_and_admin_and_signs_in(portal: Portal) -> None:
    web = portal.browser()
    web.get("/signup")
    r = web.post(
        "/signup",
        {
            "organization": "Bäckerei Sonne",
            "kind": "sme",
            "country": "de",
            "sectors": "food",
            "name": "Jonas Sonne",
            "email": "jonas@sonne.example",
            "password": "croissant-2026",
            "password2": "croissant-2026",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/proposals/new"
    assert "Jonas Sonne" in web.get("/").text
    with portal.api.uow_factory(write=False) as uow:
        user = uow.users.by_email("jonas@sonne.example")
        org = uow.organizations.get(user.organization_id)
        assert user.is_org_admin and org.name == "Bäckerei Sonne" and org.country == "DE"
        assert user.password_hash.startswith("$argon2id$") and "croissant" not in user.password_hash


def test_sign_up_errors_sit_next_to_their_fields_and_keep_the_input(portal: Portal) -> None:
    web = portal.browser()
    web.get("/signup")
    before = portal.api.counts()
    r = web.post(
        "/signup",
        {
            "organization": "Acme <b>AI</b>",
            "kind": "sme",
            "country": "XX",
            "name": "A",
            "email": "not-an-email",
            "password": "short",
            "password2": "short",
        },
    )
    assert r.status_code == 422
    assert 'id="e-password"' in r.text  # the first problem found: the password rule
    assert "Acme &lt;b&gt;AI&lt;/b&gt;" in r.text and "<b>AI</b>" not in r.text  # kept, escaped
    r = web.post(
        "/signup",
        {
            "organization": "Acme AI",
            "kind": "sme",
            "country": "XX",
            "name": "A",
            "email": "a@acme.example",
            "password": "long-enough-pass",
            "password2": "long-enough-pass",
        },
    )
    assert r.status_code == 422 and 'id="e-country"' in r.text
    assert portal.api.counts() == before


def test_sign_out_ends_the_session_on_the_server(portal: Portal) -> None:
    web = portal.browser("anna")
    secret = web.client.cookies.get("aif_session")
    r = web.post("/logout")
    assert r.status_code == 303
    web.client.cookies.set("aif_session", secret)  # replaying the old cookie does not help
    r = web.get("/projects", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_an_expired_session_asks_to_sign_in_again(portal: Portal) -> None:
    web = portal.browser("anna")
    portal.api.clock.advance(hours=3)  # past the idle timeout (2 h)
    r = web.get("/projects", follow_redirects=False)
    assert r.status_code == 303 and "expired=1" in r.headers["location"]
    page = web.get(r.headers["location"])
    assert "Your session has expired" in page.text


def test_changing_the_password_ends_other_sessions(portal: Portal) -> None:
    first, second = portal.browser("eva"), portal.browser("eva")
    r = first.post("/account/password", {"current": DEMO_PASSWORD, "new": "a-new-secret-1", "new2": "a-new-secret-1"})
    assert r.status_code == 303
    assert second.get("/projects", follow_redirects=False).status_code == 303  # signed out there too
    third = portal.browser()
    third.sign_in(PEOPLE["eva"], "a-new-secret-1")
    with portal.api.uow_factory(write=False) as uow:
        sessions = uow.session.scalars(
            select(WebSession).join(User, User.id == WebSession.user_id).where(User.email == PEOPLE["eva"])
        ).all()
        assert sum(s.ended_at is None for s in sessions) == 1


def test_language_switch_is_remembered(portal: Portal) -> None:
    web = portal.browser()
    assert 'lang="en"' in web.get("/").text
    r = web.post("/lang", {"lang": "de", "next": "/calls"})
    assert r.status_code == 303 and r.headers["location"] == "/calls"
    page = web.get("/calls")
    assert 'html lang="de"' in page.text and "Ausschreibungen" in page.text
    assert 'html lang="de"' in portal.browser().get("/", headers={"accept-language": "de-DE,de;q=0.9"}).text


def test_a_huge_form_post_is_refused_with_a_readable_page_and_nothing_written(portal: Portal) -> None:
    web = portal.browser()
    web.get("/signup")
    before = portal.api.counts()
    r = web.post(
        "/signup",
        {
            "organization": "x" * 2_000_000,
            "kind": "sme",
            "country": "DE",
            "name": "Big",
            "email": "big@big.example",
            "password": "long-enough-pass",
            "password2": "long-enough-pass",
        },
    )
    assert r.status_code == 413 and "text/html" in r.headers["content-type"] and "nothing was saved" in r.text
    assert portal.api.counts() == before


def test_pages_carry_a_strict_content_security_policy(portal: Portal) -> None:
    r = portal.browser().get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert "cdn" not in r.text.lower() and '<script src="/static/vendor/htmx.min.js"' in r.text
    assert portal.browser().get("/static/vendor/htmx.min.js").status_code == 200


def test_a_session_ends_at_once_even_right_after_a_cached_page(portal: Portal) -> None:
    web = portal.browser("anna")
    assert web.get("/projects").status_code == 200  # the session is now cached for a few seconds
    portal.api.clock.advance(hours=13)  # past the session's lifetime
    r = web.get("/projects", follow_redirects=False)
    assert r.status_code == 303 and "expired=1" in r.headers["location"]
    other = portal.browser("anna")
    assert other.get("/projects").status_code == 200
    secret = other.client.cookies.get("aif_session")
    assert other.post("/logout").status_code == 303
    other.client.cookies.set("aif_session", secret)  # the old cookie, replayed at once
    assert other.get("/projects", follow_redirects=False).status_code == 303  # sign-out evicts the cache
