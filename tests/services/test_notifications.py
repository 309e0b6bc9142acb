"""Allocation notifications on the demo factory: use thresholds raised once each as charges accumulate,
expiry raised once, who sees which, and delivery to a real SMTP server (aiosmtpd) and a real HTTP receiver
on 127.0.0.1 — signed payloads, one e-mail per member with a stable Message-ID, failures retried with backoff
until max_attempts, an outage that costs one attempt per pass, a crash between sending and recording that a
receiver deduplicates, channels without settings ``off``."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from aifactory.config import Settings
from aifactory.demo import OPERATOR_EMAIL, seed_demo
from aifactory.domain.access import PageRequest, ProjectScope
from aifactory.domain.errors import NotFound
from aifactory.domain.ledger import EntryKind, LedgerEntry, hours_to_seconds, month_key
from aifactory.notify import SIGNATURE_HEADER, ChannelUnreachable, SmtpSender, WebhookSender, build_senders
from aifactory.services import delivery, ledger
from aifactory.services.context import Actor
from aifactory.services.delivery import deliver_pending
from aifactory.services.notifications import list_notifications, note, note_lifecycle
from aifactory.web.mail import MailTemplates
from tests.support.mail import MailSink, free_port, smtp_sink

SECRET = "s3cret-for-the-tests-0123456789abcdef"
ANNA, LARS = "anna@backhaus-kiel.example", "lars@fz-nord.example"  # bakery PI and member
DAAN, CLAIRE = "daan@gridwise.example", "claire@medvision.example"  # gridwise; no project at all


@pytest.fixture
def demo(uow_factory, clock):
    info = seed_demo(uow_factory, clock)
    deliver_pending(uow_factory, clock, {})  # what seeding raised (decisions, assignments) is settled: "off"
    return info


def allocation_of(uow_factory, demo, key: str) -> tuple[int, int, Any]:
    """(allocation id, project id, end date) of a demo proposal's project."""
    with uow_factory(write=False) as uow:
        project = uow.projects.by_proposal(demo.proposal_ids[key])
        (alloc,) = project.allocations
        return alloc.id, project.id, alloc.end_date


def events(uow_factory, allocation_id: int) -> list[str]:
    with uow_factory(write=False) as uow:
        page = uow.notifications.visible(PageRequest(limit=200), ProjectScope(everything=True))
        return [n.event for n in reversed(page.items) if n.allocation_id == allocation_id]


def charge(uow_factory, clock, allocation_id: int, hours: float, key: str) -> None:
    """A charge through the ledger's own posting, then its after-charge checks (what settlement does)."""
    with uow_factory() as uow:
        alloc = uow.ledger.lock_allocation(allocation_id)
        ledger.post(
            uow,
            LedgerEntry(
                allocation_id=alloc.id,
                project_id=alloc.project_id,
                resource_id=alloc.resource_id,
                kind=EntryKind.CHARGE,
                amount=hours_to_seconds(hours),
                at=clock.now(),
                period=month_key(clock.now()),
                key=key,
                reason="test charge",
            ),
        )
        ledger.after_charge(uow, clock, alloc)
        uow.commit()


def raise_one(uow_factory, clock, allocation_id: int, event: str = "threshold-50") -> int:
    with uow_factory() as uow:
        n = note(uow, clock, uow.allocations.get(allocation_id), event, f"{event} reached")
        uow.commit()
        return n.id


def stored(uow_factory, notification_id: int):
    with uow_factory(write=False) as uow:
        return uow.notifications.get(notification_id)


def recipients(uow_factory, notification_id: int) -> dict[str, tuple[str, int]]:
    """e-mail address -> (e-mail state, attempts) of each recipient."""
    with uow_factory(write=False) as uow:
        return {
            uow.users.get(r.user_id).email: (r.email_state, r.attempts)
            for r in uow.notifications.recipients(notification_id)
        }


# ------------------------------------------------------------------ raising


def test_thresholds_are_raised_once_each_as_charges_accumulate(uow_factory, clock, demo) -> None:
    alloc_id, _, _ = allocation_of(uow_factory, demo, "bakery")  # 500 GPU-hours
    expected = [
        (100, []),
        (160, ["threshold-50"]),
        (100, ["threshold-50"]),
        (50, ["threshold-50", "threshold-80"]),
        (80, ["threshold-50", "threshold-80", "threshold-95"]),
        (5, ["threshold-50", "threshold-80", "threshold-95"]),
    ]
    for i, (hours, raised) in enumerate(expected):
        charge(uow_factory, clock, alloc_id, hours, key=f"test:charge:{i}")
        assert events(uow_factory, alloc_id) == raised, f"after charge {i} ({hours} h)"
    charge(uow_factory, clock, alloc_id, 1, key="test:charge:0")  # the same key again: nothing changes
    with uow_factory(write=False) as uow:
        page = uow.notifications.visible(PageRequest(), ProjectScope(everything=True))
        n50, _n80, n95 = reversed([n for n in page.items if n.allocation_id == alloc_id])
        name = uow.projects.get(n50.project_id).name
    assert n50.message == f"Project {name!r} has used 52% of its 500 GPU-hours"
    assert n95.message == f"Project {name!r} has used 98% of its 500 GPU-hours"
    assert (n50.webhook_state, n50.email_state, n50.attempts) == ("pending", "pending", 0)
    assert (n50.data["percent"], n50.data["gpu_hours"], n50.data["project"]) == (52, "500", name)
    assert n50.dedup_key == f"allocation:{alloc_id}:threshold-50"
    assert set(recipients(uow_factory, n50.id)) == {ANNA, LARS}  # the project's members


def test_note_refuses_a_second_notification_for_the_same_event(uow_factory, clock, demo) -> None:
    alloc_id, _, _ = allocation_of(uow_factory, demo, "bakery")
    raise_one(uow_factory, clock, alloc_id, "suspended-x")
    with uow_factory() as uow:
        assert note(uow, clock, uow.allocations.get(alloc_id), "suspended-x", "again") is None
    assert events(uow_factory, alloc_id) == ["suspended-x"]


def test_expiry_is_announced_7_days_ahead_and_raised_once_after_the_end(uow_factory, clock, demo) -> None:
    allocations = [allocation_of(uow_factory, demo, k) for k in ("bakery", "gridwise")]
    last_end = max(end for _, _, end in allocations)
    raised: dict[int, list[tuple[str, Any]]] = {a: [] for a, _, _ in allocations}
    day = clock.now().date()
    while day <= last_end + timedelta(days=3):
        with uow_factory() as uow:
            for n in note_lifecycle(uow, clock, day):
                raised[n.allocation_id].append((n.event, day))
        day += timedelta(days=1)
    for alloc_id, _, end in allocations:
        assert raised[alloc_id] == [("expiring-7d", end - timedelta(days=7)), ("expired", end + timedelta(days=1))]
        assert events(uow_factory, alloc_id) == ["expiring-7d", "expired"]


# ------------------------------------------------------------------ who sees what


def actor(uow_factory, email: str) -> Actor:
    with uow_factory(write=False) as uow:
        return Actor(uow.users.by_email(email))


def visible(uow_factory, email: str, project_id: int | None = None) -> list[tuple[int, str]]:
    with uow_factory(write=False) as uow:
        page = list_notifications(uow, actor(uow_factory, email), PageRequest(), project_id=project_id)
        return [(n.project_id, n.event) for n in page.items if n.allocation_id is not None]


def test_members_see_their_projects_notifications_and_nobody_else_does(uow_factory, clock, demo) -> None:
    bakery_alloc, bakery, _ = allocation_of(uow_factory, demo, "bakery")
    grid_alloc, grid, _ = allocation_of(uow_factory, demo, "gridwise")
    raise_one(uow_factory, clock, bakery_alloc, "threshold-50")
    raise_one(uow_factory, clock, grid_alloc, "threshold-80")
    assert visible(uow_factory, ANNA) == visible(uow_factory, LARS) == [(bakery, "threshold-50")]
    assert visible(uow_factory, DAAN) == [(grid, "threshold-80")]
    assert visible(uow_factory, CLAIRE) == []  # another organization, no project: nothing
    assert visible(uow_factory, OPERATOR_EMAIL) == [(grid, "threshold-80"), (bakery, "threshold-50")]
    assert visible(uow_factory, OPERATOR_EMAIL, grid) == [(grid, "threshold-80")]
    for outsider, project in ((DAAN, bakery), (CLAIRE, bakery), (ANNA, grid)):
        with pytest.raises(NotFound), uow_factory(write=False) as uow:
            list_notifications(uow, actor(uow_factory, outsider), PageRequest(), project_id=project)


# ------------------------------------------------------------------ receivers


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 answering each POST with the next status (the last one repeats)."""

    statuses: list[int]
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver([204])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            rec.requests.append((dict(self.headers), body))
            status = rec.statuses[min(len(rec.requests), len(rec.statuses)) - 1]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/aifactory"
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    with smtp_sink() as sink:
        yield sink


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}/nobody-listens"


def later(clock, minutes: float = 90) -> None:
    """Past any backoff so far (the first waits are 30 s, 1 min, 2 min, …)."""
    clock.advance(minutes=minutes)


# ------------------------------------------------------------------ delivering


def test_delivery_signs_the_webhook_and_mails_each_member_once(uow_factory, clock, demo, receiver, smtp) -> None:
    alloc_id, project_id, _ = allocation_of(uow_factory, demo, "bakery")
    nid = raise_one(uow_factory, clock, alloc_id, "threshold-80")
    clock.advance(minutes=5)
    senders = {
        "webhook": WebhookSender(receiver.url, SECRET),
        "email": SmtpSender("127.0.0.1", smtp.port, sender="factory@jaif.example"),
    }
    report = deliver_pending(uow_factory, clock, senders)
    assert (report.delivered, report.retrying, report.failed, report.off) == (3, 0, 0, 0)  # 1 webhook, 2 e-mails

    ((headers, body),) = receiver.requests
    expected_sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected_sig)
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "id": nid,
        "event": "threshold-80",
        "message": "threshold-80 reached",
        "project_id": project_id,
        "allocation_id": alloc_id,
        "created_at": (clock.now() - timedelta(minutes=5)).isoformat(),
    }

    assert sorted(m.to for m in smtp.messages) == sorted([ANNA, LARS])  # one e-mail each: no one sees the other
    for mail in smtp.messages:
        assert mail.sender == "factory@jaif.example"
        assert mail.message["Subject"] == "[aifactory] threshold-80"
        assert "threshold-80 reached" in mail.text()
        assert mail.message["Message-ID"].startswith(f"<aifactory.n{nid}.r") and "@jaif.example>" in str(
            mail.message["Message-ID"]
        )
    assert len(smtp.unique_ids()) == 2

    n = stored(uow_factory, nid)
    assert (n.webhook_state, n.email_state, n.attempts, n.last_error) == ("delivered", "delivered", 1, "")
    assert n.delivered_at == clock.now()
    assert recipients(uow_factory, nid) == {ANNA: ("delivered", 1), LARS: ("delivered", 1)}
    again = deliver_pending(uow_factory, clock, senders)
    assert (again.delivered, len(receiver.requests), len(smtp.messages)) == (0, 1, 2)


def test_a_wrong_secret_does_not_verify(uow_factory, clock, demo, receiver) -> None:
    raise_one(uow_factory, clock, allocation_of(uow_factory, demo, "bakery")[0])
    deliver_pending(uow_factory, clock, {"webhook": WebhookSender(receiver.url, "another-secret"), "email": None})
    ((headers, body),) = receiver.requests
    assert headers[SIGNATURE_HEADER] != "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_a_failing_webhook_backs_off_then_fails_while_email_is_not_resent(
    uow_factory, clock, demo, receiver, smtp
) -> None:
    receiver.statuses = [500]
    nid = raise_one(uow_factory, clock, allocation_of(uow_factory, demo, "bakery")[0])
    senders = {"webhook": WebhookSender(receiver.url, SECRET), "email": SmtpSender("127.0.0.1", smtp.port)}
    first = deliver_pending(uow_factory, clock, senders, max_attempts=3)
    assert (first.delivered, first.retrying, first.failed) == (2, 1, 0)
    n = stored(uow_factory, nid)
    assert (n.webhook_state, n.email_state, n.attempts) == ("pending", "delivered", 1)
    assert n.last_error == "webhook: webhook answered HTTP 500"
    assert n.next_attempt_at == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=29)
    assert deliver_pending(uow_factory, clock, senders, max_attempts=3).retrying == 0  # still waiting
    assert len(receiver.requests) == 1
    clock.advance(seconds=1)
    second = deliver_pending(uow_factory, clock, senders, max_attempts=3)
    assert second.retrying == 1 and stored(uow_factory, nid).next_attempt_at == clock.now() + timedelta(minutes=1)
    later(clock)
    third = deliver_pending(uow_factory, clock, senders, max_attempts=3)
    assert (third.retrying, third.failed) == (0, 1)
    n = stored(uow_factory, nid)
    assert (n.webhook_state, n.email_state, n.attempts) == ("failed", "delivered", 3)
    later(clock)
    deliver_pending(uow_factory, clock, senders, max_attempts=3)
    assert len(receiver.requests) == 3 and len(smtp.messages) == 2  # given up; each e-mail went once


def test_a_refused_connection_is_retried_and_then_failed(uow_factory, clock, demo) -> None:
    nid = raise_one(uow_factory, clock, allocation_of(uow_factory, demo, "gridwise")[0])
    senders = {"webhook": WebhookSender(closed_port_url(), SECRET), "email": None}
    deliver_pending(uow_factory, clock, senders, max_attempts=2)
    n = stored(uow_factory, nid)
    assert (n.webhook_state, n.email_state, n.attempts) == ("pending", "off", 1)
    assert n.last_error == "webhook: webhook unreachable (ConnectError)"
    later(clock)
    deliver_pending(uow_factory, clock, senders, max_attempts=2)
    n = stored(uow_factory, nid)
    assert (n.webhook_state, n.attempts, n.delivered_at) == ("failed", 2, None)


def test_a_webhook_that_recovers_is_delivered_on_a_later_pass(uow_factory, clock, demo, receiver) -> None:
    receiver.statuses = [503, 200]
    nid = raise_one(uow_factory, clock, allocation_of(uow_factory, demo, "bakery")[0])
    senders = {"webhook": WebhookSender(receiver.url, SECRET), "email": None}
    deliver_pending(uow_factory, clock, senders)
    clock.advance(minutes=1)
    deliver_pending(uow_factory, clock, senders)
    n = stored(uow_factory, nid)
    assert (n.webhook_state, n.attempts, n.delivered_at) == ("delivered", 2, clock.now())
    assert len(receiver.requests) == 2


def test_an_unreachable_smtp_server_is_recorded(uow_factory, clock, demo) -> None:
    nid = raise_one(uow_factory, clock, allocation_of(uow_factory, demo, "bakery")[0])
    deliver_pending(
        uow_factory, clock, {"webhook": None, "email": SmtpSender("127.0.0.1", free_port())}, max_attempts=1
    )
    n = stored(uow_factory, nid)
    assert (n.webhook_state, n.email_state) == ("off", "pending")  # Lars's e-mail waits: the server was down
    assert n.last_error.startswith("email: SMTP server unreachable")
    assert recipients(uow_factory, nid) == {ANNA: ("failed", 1), LARS: ("pending", 0)}


def test_an_smtp_outage_costs_one_connection_per_pass_and_blocks_nothing_else(
    uow_factory, clock, demo, receiver
) -> None:
    """Down: the first e-mail fails, the others wait as long without a try of their own; the webhook goes on."""
    tries: list[str] = []

    class Down:
        def send_mail(self, mail: Any) -> None:
            tries.append(mail.to)
            raise ChannelUnreachable("SMTP server unreachable (ConnectionRefusedError)")

    ids = [raise_one(uow_factory, clock, allocation_of(uow_factory, demo, k)[0], "threshold-50") for k in ("bakery",)]
    ids.append(raise_one(uow_factory, clock, allocation_of(uow_factory, demo, "gridwise")[0], "threshold-80"))
    senders = {"webhook": WebhookSender(receiver.url, SECRET), "email": Down()}
    report = deliver_pending(uow_factory, clock, senders)
    assert (len(tries), report.retrying, report.deferred, report.delivered) == (1, 1, 2, 2)  # 3 e-mails, 2 hooks
    assert deliver_pending(uow_factory, clock, senders).deferred == 0 and len(tries) == 1  # all wait 30 s
    clock.advance(seconds=30)
    deliver_pending(uow_factory, clock, senders)
    assert len(tries) == 2  # one try per pass while it is down
    with smtp_sink() as sink:
        later(clock)
        senders["email"] = SmtpSender("127.0.0.1", sink.port)
        deliver_pending(uow_factory, clock, senders)
        assert sorted(m.to for m in sink.messages) == sorted([ANNA, LARS, DAAN])
    assert [stored(uow_factory, i).email_state for i in ids] == ["delivered", "delivered"]


def test_a_crash_between_sending_and_recording_sends_again_with_the_same_message_id(
    uow_factory, clock, demo, smtp, monkeypatch
) -> None:
    """At least once: the e-mails went, the pass died before it wrote so; the next pass sends them again, and a
    receiver that drops duplicates by Message-ID keeps one of each."""
    nid = raise_one(uow_factory, clock, allocation_of(uow_factory, demo, "bakery")[0])
    senders = {"webhook": None, "email": SmtpSender("127.0.0.1", smtp.port)}

    def crash(*args: Any, **kw: Any) -> None:
        raise SystemExit("killed between sending and recording")

    with monkeypatch.context() as m:
        m.setattr(delivery, "_record_mail", crash)
        with pytest.raises(SystemExit):
            deliver_pending(uow_factory, clock, senders)
    assert len(smtp.messages) == 2 and stored(uow_factory, nid).email_state == "pending"
    deliver_pending(uow_factory, clock, senders)
    assert len(smtp.messages) == 4 and len(smtp.unique_ids()) == 2
    assert stored(uow_factory, nid).email_state == "delivered"
    deliver_pending(uow_factory, clock, senders)
    assert len(smtp.messages) == 4


def test_channels_without_settings_are_off_and_never_picked_up_again(uow_factory, clock, demo) -> None:
    nid = raise_one(uow_factory, clock, allocation_of(uow_factory, demo, "bakery")[0])
    senders = build_senders(Settings(env="test"))
    assert senders == {"webhook": None, "email": None}
    report = deliver_pending(uow_factory, clock, senders)
    assert (report.off, report.delivered) == (3, 0)  # the webhook, two e-mails
    n = stored(uow_factory, nid)
    assert (n.webhook_state, n.email_state, n.attempts, n.delivered_at) == ("off", "off", 0, None)
    with uow_factory(write=False) as uow:
        assert uow.notifications.undelivered() == []


def test_senders_run_outside_any_transaction(uow_factory, clock, demo) -> None:
    """A sender may take seconds: no write lock (SQLite) or row lock is held while it runs, so it can itself
    write at once (on SQLite, an open write transaction would block it for the 30 s busy timeout)."""
    alloc_id, _, _ = allocation_of(uow_factory, demo, "bakery")
    nid = raise_one(uow_factory, clock, alloc_id)

    class Writing:
        def send(self, out: Any) -> None:
            with uow_factory() as uow:
                note(uow, clock, uow.allocations.get(alloc_id), "written-while-sending", "x")
                n = uow.notifications.get(out.id)
                n.last_error = "touched by the sender"
                uow.commit()

    deliver_pending(uow_factory, clock, {"webhook": Writing(), "email": None})
    assert stored(uow_factory, nid).webhook_state == "delivered"
    assert "written-while-sending" in events(uow_factory, alloc_id)


# ------------------------------------------------------------------ settings


def test_build_senders_from_settings() -> None:
    settings = Settings(
        env="test",
        webhook_url="https://hooks.example/x",
        webhook_secret=SECRET,
        smtp_host="mail.example",
        smtp_port=587,
        smtp_starttls=True,
        smtp_username="u",
        smtp_password="p",
        smtp_from="f@x.example",
        site_name="JAIF",
        public_url="https://jaif.example",
        smtp_html=False,
    )
    senders = build_senders(settings)
    webhook, email = senders["webhook"], senders["email"]
    assert isinstance(webhook, WebhookSender) and (webhook.url, webhook.secret) == ("https://hooks.example/x", SECRET)
    assert isinstance(email, SmtpSender)
    assert (email.host, email.port, email.sender, email.starttls, email.username, email.password) == (
        "mail.example",
        587,
        "f@x.example",
        True,
        "u",
        "p",
    )
    templates = email.render.__self__
    assert isinstance(templates, MailTemplates)
    assert (templates.site_name, templates.public_url, templates.html) == ("JAIF", "https://jaif.example", False)


def test_production_refuses_a_webhook_without_a_secret() -> None:
    key = "k" * 40
    with pytest.raises(ValueError, match="AIFACTORY_WEBHOOK_SECRET"):
        Settings(env="production", secret_key=key, webhook_url="https://hooks.example/x")
    with pytest.raises(ValueError, match="AIFACTORY_WEBHOOK_SECRET"):
        Settings(env="production", secret_key=key, webhook_url="https://hooks.example/x", webhook_secret="short")
    assert (
        Settings(
            env="production", secret_key=key, webhook_url="https://hooks.example/x", webhook_secret=SECRET
        ).webhook_url
        == "https://hooks.example/x"
    )
    with pytest.raises(ValueError):
        Settings(env="test", webhook_url="ftp://hooks.example/x")
