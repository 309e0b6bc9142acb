"""The password policy (domain.passwords): one rule for sign-up, change, reset and user creation."""

from __future__ import annotations

import pytest

from aifactory.domain.errors import InvalidInput
from aifactory.domain.passwords import REASONS, Person, WeakPassword, check_password

ANNA = Person("anna.petersen@backhaus-kiel.example", "Anna Petersen")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaaaa", "repeat"),
        ("abcabcabcabc", "repeat"),
        ("abcdefghijklmnop", "sequence"),
        ("asdfghjkl;lkjh", "keyboard"),
        ("qwertyuiopasdf", "common"),  # common keyboard runs are in the password lists
        ("password12345", "common"),
        ("short-1", "short"),
        ("x" * 1025, "long"),
    ],
)
def test_guessable_or_wrongly_sized_passwords_are_refused_with_their_reason(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password(password)
    assert caught.value.reason == reason
    assert isinstance(caught.value, InvalidInput) and caught.value.status == 422
    assert [e.field for e in caught.value.errors] == ["password"]
    assert REASONS[reason] in str(caught.value)


def test_aaaaaaaaaaaa_is_refused_saying_why() -> None:
    with pytest.raises(WeakPassword, match="too easy to guess: it repeats characters"):
        check_password("aaaaaaaaaaaa")


@pytest.mark.parametrize("password", ["anna.petersen-bakes-42", "my-ANNA.PETERSEN@backhaus-kiel.example"])
def test_a_password_containing_the_e_mail_or_its_local_part_is_refused(password: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password(password, ANNA)
    assert caught.value.reason == "email"


def test_the_persons_own_name_is_guessable() -> None:
    with pytest.raises(WeakPassword):
        check_password("Anna-Petersen", ANNA)


@pytest.mark.parametrize("password", ["copper-kettle-sings-at-dawn", "bake-less-waste", "Tr0ub4dor&3xyz"])
def test_long_unpredictable_passwords_pass(password: str) -> None:
    check_password(password, ANNA)


def test_the_field_can_be_named() -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password("aaaaaaaaaaaa", field_name="new")
    assert [e.field for e in caught.value.errors] == ["new"]
