"""Sign-in throttling (services.throttle) on the `limits` library's memory storage, with the clock it reads
moved by the test: lockouts per account and per client address, and a wait that grows as failures go on."""

from __future__ import annotations

import types

import pytest
from limits.storage import memory

from aifactory.services import throttle as throttle_module
from aifactory.services.throttle import Kind, Rules, Throttle, TooManyAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    moved = types.SimpleNamespace(time=fake.time, sleep=lambda _s: None)
    monkeypatch.setattr(memory, "time", moved)
    monkeypatch.setattr(throttle_module, "time", moved)
    return fake


def fail(t: Throttle, n: int, account: str = "anna@x.example", address: str = "10.0.0.1") -> list:
    lockouts = []
    for _ in range(n):
        t.check(Kind.SIGNIN, account, address)
        lockouts += t.count(Kind.SIGNIN, account, address)
    return lockouts


def test_the_wait_grows_as_failures_go_on(clock: Clock) -> None:
    t = Throttle(rules=Rules(signin_account="3/minute;5/hour;7/day", signin_address="100/minute"))
    (first,) = fail(t, 3)
    assert (first.scope, first.limit, first.key) == ("account", "3 per 1 minute", "anna@x.example")
    with pytest.raises(TooManyAttempts) as caught:
        t.check(Kind.SIGNIN, "anna@x.example", "10.0.0.2")  # from another address too
    assert 1 <= caught.value.retry_after <= 60 and caught.value.status == 429
    clock.now += 61
    (second,) = fail(t, 2)
    assert second.limit == "5 per 1 hour"
    with pytest.raises(TooManyAttempts) as caught:
        t.check(Kind.SIGNIN, "anna@x.example", "10.0.0.1")
    assert 60 < caught.value.retry_after <= 3600
    clock.now += 3601
    (third,) = fail(t, 2)
    assert third.limit == "7 per 1 day"
    with pytest.raises(TooManyAttempts) as caught:
        t.check(Kind.SIGNIN, "anna@x.example", "10.0.0.1")
    assert 3600 < caught.value.retry_after <= 86400


def test_a_client_address_is_locked_across_accounts_and_others_are_not(clock: Clock) -> None:
    t = Throttle(rules=Rules(signin_account="100/minute", signin_address="4/minute"))
    for n in range(4):
        fail(t, 1, account=f"user{n}@x.example")
    with pytest.raises(TooManyAttempts):
        t.check(Kind.SIGNIN, "someone@x.example", "10.0.0.1")
    t.check(Kind.SIGNIN, "someone@x.example", "10.0.0.9")


def test_success_clears_the_account_but_not_the_address(clock: Clock) -> None:
    t = Throttle(rules=Rules(signin_account="3/minute", signin_address="5/minute"))
    fail(t, 2)
    t.forget(Kind.SIGNIN, "anna@x.example")
    assert fail(t, 2) == []  # the account counts from zero again (else this would lock it at 3)
    assert {lockout.scope for lockout in fail(t, 1)} == {"account", "address"}  # the address counted all 5


def test_mail_requests_count_apart_from_sign_ins(clock: Clock) -> None:
    t = Throttle(rules=Rules(mail_account="2/hour", signin_account="1/minute"))
    t.count(Kind.MAIL, "anna@x.example", "")
    t.count(Kind.MAIL, "anna@x.example", "")
    with pytest.raises(TooManyAttempts):
        t.check(Kind.MAIL, "anna@x.example", "")
    t.check(Kind.SIGNIN, "anna@x.example", "")


def test_an_asynchronous_storage_is_refused_when_first_used() -> None:
    with pytest.raises(ValueError, match="asynchronous"):
        _ = Throttle("async+memory://").limiter
