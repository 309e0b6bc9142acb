"""Notifications for people, through the services and delivered to a real SMTP server (aiosmtpd): a decision
e-mail in German to a German user, the reviewer's e-mail, reminders of reviews due and overdue (each once),
preferences honoured (inbox only, the opt-in job topics), the inbox and its unread count, mandatory e-mails to an
address without an account (their secret link wiped once sent), and the partner organization's admins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from aifactory.domain.access import PageRequest
from aifactory.domain.errors import InvalidInput, NotFound
from aifactory.domain.jobs.states import JobState
from aifactory.domain.notifications import Channel, Topic
from aifactory.notify import SmtpSender
from aifactory.services import decisions, inbox, notifications
from aifactory.services.context import Actor
from aifactory.services.delivery import deliver_pending
from aifactory.web.mail import MailTemplates
from tests.support.mail import MailSink, smtp_sink

SITE = "https://jaif.example"


@pytest.fixture
def smtp() -> Iterator[MailSink]:
    with smtp_sink() as sink:
        yield sink


def mailer(sink: MailSink) -> dict[str, object]:
    templates = MailTemplates("JAIF", SITE)
    return {
        "webhook": None,
        "email": SmtpSender("127.0.0.1", sink.port, "factory@jaif.example", render=templates.render),
    }


def deliver(world, sink: MailSink) -> None:
    deliver_pending(world.uow_factory, world.clock, mailer(sink))


def items(world, who: Actor, unread_only: bool = False) -> list[tuple[str, bool]]:
    page = world.read(inbox.inbox, who, PageRequest(), unread_only=unread_only)
    return [(i.notification.event, i.read_at is None) for i in page.items]


def unread(world, who: Actor) -> int:
    return world.read(inbox.unread_count, who)


def commit(world, fn, *args, **kw):
    """``fn`` in its own unit of work, committed (the raising functions leave that to their caller)."""
    with world.uow_factory() as uow:
        result = fn(uow, world.clock, *args, **kw)
        uow.commit()
        return result


def german(world, who: Actor) -> None:
    world.run(inbox.set_preferences, who, language="de")


# ------------------------------------------------------------------ decisions and reviews


def test_a_decision_reaches_a_german_applicant_in_german(world, bakery, smtp) -> None:
    german(world, bakery)
    pid = world.draft(bakery, "fast_lane", title="Brot <b>& Brötchen</b>")
    world.submit(bakery, pid)
    world.run(decisions.decide, world.operator, pid, accept_it=False, reason="Out of scope: <no GPUs needed>")
    assert items(world, bakery) == [("proposal-rejected", True)] and unread(world, bakery) == 1
    deliver(world, smtp)
    (mail,) = smtp.to(bakery.user.email)
    assert mail.message["Subject"] == "[JAIF] Ihr Antrag „Brot <b>& Brötchen</b>“ wurde abgelehnt"
    assert mail.message["Content-Language"] == "de"
    text = mail.text()
    assert text.startswith("Guten Tag Backhaus Kiel Admin,\n\nIhr Antrag „Brot <b>& Brötchen</b>“ wurde abgelehnt")
    assert "Begründung: Out of scope: <no GPUs needed>" in text
    assert f"Im Portal öffnen: {SITE}/proposals/{pid}" in text
    assert f"{SITE}/settings/notifications" in text
    html = mail.html()
    assert html is not None and "&lt;b&gt;&amp; Brötchen&lt;/b&gt;" in html and "<b>&" not in html
    assert "&lt;no GPUs needed&gt;" in html and f'href="{SITE}/proposals/{pid}"' in html


def test_an_acceptance_and_the_reviewer_assignment_in_english(world, bakery, smtp) -> None:
    reviewer = world.reviewer()
    pid = world.draft(bakery, "fast_lane")
    world.submit(bakery, pid)
    world.run(decisions.assign_reviewers, world.operator, pid, [reviewer.id])
    deliver(world, smtp)
    (mail,) = smtp.to(reviewer.user.email)
    deadline = world.proposal(pid).decision_deadline.isoformat()
    assert mail.message["Subject"] == f"[JAIF] You were asked to review the proposal “Bake less waste” (due {deadline})"
    assert f"{SITE}/reviews/{pid}" in mail.text()
    world.run(
        decisions.submit_review,
        reviewer,
        pid,
        scores={"excellence": 4, "impact": 4, "feasibility": 4},
        declare_no_conflict=True,
    )
    world.run(decisions.decide, world.operator, pid, accept_it=True, awarded_gpu_hours=300, reason="Well argued.")
    deliver(world, smtp)
    (accepted,) = smtp.to(bakery.user.email)
    assert accepted.message["Subject"] == "[JAIF] Your proposal “Bake less waste” was accepted: 300 GPU-hours"
    assert "Reason: Well argued." in accepted.text() and accepted.message["Content-Language"] == "en"


def test_the_team_hears_of_the_decision_and_an_auto_approval_counts_as_one(world, bakery, institute) -> None:
    colleague = world.user("lars@forschungszentrum-nord.example", institute.user.organization_id)
    pid = world.draft(
        bakery,
        partner_organization_ids=[institute.user.organization_id],
        team=[{"name": "Lars", "email": colleague.user.email, "role": "advisor"}],
    )
    world.submit(bakery, pid)  # playground, under the threshold: accepted at once
    assert items(world, bakery) == [("proposal-accepted", True)]
    assert items(world, colleague) == [("proposal-accepted", True)]
    assert items(world, institute) == []  # the partner's admin is not on the team


def test_review_reminders_are_raised_once_each_from_the_deadline(world, bakery) -> None:
    reviewer, done = world.reviewer(), world.reviewer("done@uni.example")
    pid = world.draft(bakery, "fast_lane")
    world.submit(bakery, pid)
    world.run(decisions.assign_reviewers, world.operator, pid, [reviewer.id, done.id])
    scores = {"excellence": 3, "impact": 3, "feasibility": 3}
    world.run(decisions.submit_review, done, pid, scores=scores, declare_no_conflict=True)
    deadline = world.proposal(pid).decision_deadline
    today = world.clock.now().date()
    assert (deadline - today).days > notifications.REVIEW_DUE_DAYS
    raised: list[tuple[str, object]] = []
    day = today
    while day <= deadline + timedelta(days=3):
        for n in world.run(notifications.note_reviews, day):
            raised.append((n.event, day))
        day += timedelta(days=1)
    assert raised == [
        ("review-due", deadline - timedelta(days=notifications.REVIEW_DUE_DAYS)),
        ("review-overdue", deadline + timedelta(days=1)),
    ]
    assert [e for e, _ in items(world, reviewer)] == ["review-overdue", "review-due", "review-assigned"]
    assert [e for e, _ in items(world, done)] == ["review-assigned"]  # reviewed: no reminder


# ------------------------------------------------------------------ preferences and the inbox


def test_preferences_are_honoured(world, bakery, smtp) -> None:
    prefs = world.run(inbox.set_preferences, bakery, channels={"decision": "inbox"})
    assert prefs.channel(Topic.DECISION) is Channel.INBOX
    pid = world.draft(bakery, "fast_lane")
    world.submit(bakery, pid)
    world.run(decisions.decide, world.operator, pid, accept_it=False, reason="No.")
    deliver(world, smtp)
    assert smtp.messages == [] and items(world, bakery) == [("proposal-rejected", True)]  # the inbox only
    assert world.actions("user")[-1:] == ["user.notification_preferences"]


def test_preferences_are_checked_before_anything_is_stored(world, bakery) -> None:
    before = world.read(inbox.preferences, bakery)
    for bad in (
        {"channels": {"decision": "off"}},  # only the job topics may be off
        {"channels": {"job-failed": "email", "nonsense": "email"}},
        {"channels": {"allocation": "pigeon"}},
        {"language": "fr"},
    ):
        with pytest.raises(InvalidInput):
            world.run(inbox.set_preferences, bakery, **bad)
    assert world.read(inbox.preferences, bakery) == before
    assert [t.channel.value for t in before.topics if t.topic.value.startswith("job-")] == ["off", "off"]


def test_job_notifications_are_opt_in(env) -> None:
    failed = env.submit(env.spec())
    env.finish(failed, JobState.FAILED, 60)
    with env.uow_factory(write=False) as uow:
        assert uow.notifications.by_key(f"job:{failed.id}:ended") is None  # nobody asked: nothing stored
        anna_id = env.anna.id
    with env.uow_factory() as uow:
        inbox.set_preferences(uow, env.clock, env.anna, channels={"job-failed": "email", "job-finished": "inbox"})
    again = env.submit(env.spec())
    env.finish(again, JobState.TIMEOUT, 60)
    done = env.submit(env.spec())
    env.finish(done, JobState.COMPLETED, 60)
    with env.uow_factory(write=False) as uow:
        mine = uow.notifications.inbox(anna_id, PageRequest()).items
        got = [(i.notification.event, i.notification.data["state"]) for i in mine if i.notification.job_id]
        assert got == [("job-finished", "completed"), ("job-failed", "timeout")]

        def email_state(job_id: int) -> str:
            (recipient,) = uow.notifications.recipients(uow.notifications.by_key(f"job:{job_id}:ended").id)
            return recipient.email_state

        assert (email_state(again.id), email_state(done.id)) == ("pending", "off")  # by e-mail / inbox only


def test_the_inbox_is_each_persons_own(world, bakery, outsider) -> None:
    for _ in range(3):
        pid = world.draft(bakery, "fast_lane")
        world.submit(bakery, pid)
        world.run(decisions.decide, world.operator, pid, accept_it=False, reason="No.")
    first, second, third = (i.id for i in world.read(inbox.inbox, bakery, PageRequest()).items)
    assert unread(world, bakery) == 3 and unread(world, outsider) == 0
    world.run(inbox.mark_read, bakery, second)
    world.run(inbox.mark_read, bakery, second)  # again: no change
    assert unread(world, bakery) == 2
    assert [unread for _, unread in items(world, bakery)] == [True, False, True]
    assert len(items(world, bakery, unread_only=True)) == 2
    for who, nid in ((outsider, first), (world.operator, first), (bakery, 999_999)):
        with pytest.raises(NotFound):
            world.run(inbox.mark_read, who, nid)
    assert world.run(inbox.mark_all_read, outsider) == 0
    assert world.run(inbox.mark_all_read, bakery) == 2 and unread(world, bakery) == 0
    assert len({first, second, third}) == 3


# ------------------------------------------------------------------ e-mails for P2's flows


def test_a_mandatory_email_reaches_an_address_without_an_account_and_forgets_its_link(world, bakery, smtp) -> None:
    world.run(inbox.set_preferences, bakery, channels={"decision": "inbox"})  # preferences do not apply
    data = {"inviter": "Backhaus Kiel Admin", "target": "the project “Bake less waste”", "expires": "2026-03-09"}
    secret = {"path": "/invitations/tok_secret_123"}
    n = commit(
        world,
        notifications.notify_address,
        "Neu@Example.ORG",
        "invitation",
        data,
        dedup_key="invite:1",
        language="de",
        secret=secret,
    )
    commit(
        world, notifications.notify_address, bakery.user.email, "password-reset", {}, dedup_key="reset:1", secret=secret
    )
    assert (
        commit(world, notifications.notify_address, "x@example.org", "invitation", data, dedup_key="invite:1") is None
    )
    with pytest.raises(ValueError, match="mandatory"):
        commit(world, notifications.notify_address, "x@example.org", "proposal-accepted", {}, dedup_key="k")
    deliver(world, smtp)
    (invite,) = smtp.to("neu@example.org")
    assert (
        invite.message["Subject"]
        == "[JAIF] Backhaus Kiel Admin lädt Sie ein, the project “Bake less waste” beizutreten"
    )
    assert f"{SITE}/invitations/tok_secret_123" in invite.text() and "09.03.2026" in invite.text()  # German date
    (reset,) = smtp.to(bakery.user.email)
    assert reset.message["Subject"] == "[JAIF] Reset your password" and "tok_secret_123" in reset.text()
    with world.uow_factory(write=False) as uow:
        stored = uow.notifications.get(n.id)
        assert stored.secret is None and "tok_secret" not in str(stored.data) + stored.message
        assert stored.webhook_state == "off"  # never to the webhook
    assert items(world, bakery) == []  # never in an inbox


def test_a_partners_admins_are_asked_for_consent(world, bakery, institute) -> None:
    member = world.user("member@forschungszentrum-nord.example", institute.user.organization_id)
    data = {"organization": "Backhaus Kiel", "title": "Bake less waste", "path": "/proposals/1"}
    n = commit(
        world,
        notifications.notify_org_admins,
        institute.user.organization_id,
        "consent-requested",
        data,
        dedup_key="c:1",
    )
    assert n.message == "Backhaus Kiel asks your organization to take part in the proposal “Bake less waste”"
    assert items(world, institute) == [("consent-requested", True)]
    assert items(world, member) == [] and items(world, bakery) == []
