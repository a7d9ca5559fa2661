"""CUID2 ids fast enough for thousands of execution rows a second.

``core.ids.new_id`` (the cuid2 package) draws every character of its salt from the operating
system (~60 µs an id). Execution rows are written by the thousand, so this generator makes the
same ids — a letter, then SHA3-512 of time, salt, counter and a process fingerprint in base 36,
the same characters the package keeps — from a PRNG seeded once from the OS, and converts only
the leading base-36 digits it needs (the hash's inputs are spelled in hex, which changes nothing
about the output: only its base-36 digits are kept).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import random
import time

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_POWERS = [36**k for k in range(0, 110)]
LENGTH = 25


_TRIPLES = [a + b + c for a in _ALPHABET for b in _ALPHABET for c in _ALPHABET]


def _base36(number: int) -> str:
    """Base 36, three digits per division."""
    chunks = []
    while number >= 46_656:
        number, rest = divmod(number, 46_656)
        chunks.append(_TRIPLES[rest])
    chunks.append(_TRIPLES[number].lstrip("0") or "0")
    return "".join(reversed(chunks))


class FastCuid:
    def __init__(self) -> None:
        self._random = random.Random(os.urandom(32))
        self._counter = self._random.randrange(476_782_367)
        self._fingerprint = _base36(self._random.getrandbits(256))

    def __call__(self) -> str:
        rnd = self._random
        self._counter += 1
        # The inputs only feed the hash: hex spells them as well as base 36 and costs less.
        data = f"{time.time_ns():x}{rnd.getrandbits(128):x}{self._counter:x}{self._fingerprint}"
        number = int.from_bytes(hashlib.sha3_512(data.encode()).digest(), "big")
        digits = bisect.bisect_right(_POWERS, number)  # base-36 length of the hash
        # The package drops the hash's first digit and keeps the next LENGTH - 1.
        head = number // _POWERS[digits - LENGTH]
        return _LETTERS[rnd.randrange(26)] + _base36(head)[1:LENGTH]


fast_id = FastCuid()
