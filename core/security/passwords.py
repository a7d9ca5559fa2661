"""Password hashing (argon2id) and the password policy.

Parameters: t=3 passes, m=64 MiB, p=1 — stronger than OWASP's argon2id minimum (t=2, m=19 MiB)
and measured at about 0.23 s per verify on a 2-core machine (``python bench/bench_auth.py``).
Hashes made with other parameters are upgraded on the next successful login (``needs_rehash``).

Policy (ASVS 5.0 §6.2): at least 12 characters, at most 256 (never below 64), any characters
including spaces and emoji, no composition rules, not one of the 5,000 most common passwords
(also with digits or symbols tacked on), not built from the account's email or the app's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 256
_AFFIXES = re.compile(r"^[\d\W_]+|[\d\W_]+$")


@dataclass(frozen=True)
class Hasher:
    """argon2id with fixed parameters; tests inject a cheap one, production uses ``DEFAULT``."""

    time_cost: int = 3
    memory_cost: int = 64 * 1024  # KiB
    parallelism: int = 1
    _ph: PasswordHasher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ph = PasswordHasher(
            time_cost=self.time_cost, memory_cost=self.memory_cost, parallelism=self.parallelism
        )
        object.__setattr__(self, "_ph", ph)

    @cached_property
    def _dummy(self) -> str:
        # A hash of nothing in particular, verified when the account doesn't exist so that an
        # unknown email costs exactly as much time as a wrong password. Made on first use.
        return self._ph.hash("blockbotx-no-such-account")

    def hash(self, password: str) -> str:
        return self._ph.hash(_bytes(password))

    def verify(self, stored: str, password: str) -> bool:
        try:
            return self._ph.verify(stored, _bytes(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def burn(self, password: str) -> None:
        """Spend one verify's worth of time without an account (anti-enumeration)."""
        self.verify(self._dummy, password)

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._ph.check_needs_rehash(stored)
        except InvalidHashError:
            return True


def _bytes(password: str) -> bytes:
    # "surrogatepass": text that isn't valid Unicode can be checked (and fail), never crash.
    return password.encode("utf-8", "surrogatepass")


@cache
def default_hasher() -> Hasher:
    return Hasher()


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("core.security").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def is_common(password: str) -> bool:
    lowered = password.lower()
    common = common_passwords()
    if lowered in common:
        return True
    core = _AFFIXES.sub("", lowered)
    return len(core) >= 4 and core in common


def check_policy(password: str, *, email: str | None = None, field: str = "password") -> None:
    """Raise InvalidInput naming what is wrong with a new password; return if it is acceptable."""
    if not isinstance(password, str) or not password:
        raise InvalidInput("Choose a password.", field=field)
    if "\x00" in password or any("\ud800" <= ch <= "\udfff" for ch in password):
        raise InvalidInput("The password contains characters that aren't text.", field=field)
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"The password must be at least {MIN_LENGTH} characters long.", field=field
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"The password can be at most {MAX_LENGTH} characters.", field=field)
    if len(set(password)) < 4:
        raise InvalidInput("The password repeats too few different characters.", field=field)
    if is_common(password):
        raise InvalidInput(
            "That password is one of the most common ones; choose another.", field=field
        )
    lowered = password.lower()
    local = (email or "").split("@", 1)[0].lower()
    if "blockbotx" in lowered or (len(local) >= 4 and local in lowered):
        raise InvalidInput(
            "The password can't contain your email name or the app's name.", field=field
        )
