"""The password policy and the production argon2id parameters."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from core.errors import InvalidInput
from core.security import passwords


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "Choose a password"),
        ("elevenchars", "at least 12"),
        ("x" * 257, "at most 256"),
        ("abababababababab", "too few different"),
        ("iloveyou", "at least 12"),
        ("1qaz2wsx3edc", "most common"),
        ("Password123456!", "most common"),
        ("!!sunshine2024", "most common"),
        ("my-blockbotx-login", "app's name"),
        ("zelda.quartermain-99", "email name"),
    ],
)
def test_policy_refuses(password: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        passwords.check_policy(password, email="zelda.quartermain@example.com")


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "x" * 10 + "yz€🙂",
        "Ä" * 3 + "ok tango 7!",
        "p" * 60 + "q!9Z",
        "k7#" * 21 + "Z",
    ],
)
def test_policy_accepts_long_and_unicode_passwords(password: str) -> None:
    passwords.check_policy(password, email="someone@example.com")


def test_common_list_is_bundled_and_large_enough() -> None:
    common = passwords.common_passwords()
    assert len(common) >= 3000
    assert {"123456", "password", "qwerty"} <= common


def test_production_parameters_hash_verify_and_rehash() -> None:
    hasher = passwords.default_hasher()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65536, 1)
    stored = hasher.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=1$")
    assert hasher.verify(stored, "correct horse battery staple")
    assert not hasher.verify(stored, "correct horse battery stapler")
    assert not hasher.needs_rehash(stored)
    weaker = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash("x")
    assert hasher.needs_rehash(weaker) and hasher.needs_rehash("not a hash")
    assert not hasher.verify("not a hash", "x")
