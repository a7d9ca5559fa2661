"""TOTP (RFC 6238, via pyotp) with a replay guard, and one-time backup codes.

A code is checked against the time steps now-1, now and now+1 (±30 s of clock drift) and the
matching step is returned, so the caller can refuse any step not later than the last one used.

Backup codes carry 120 bits of randomness (24 characters from a 32-letter alphabet), so by
ASVS 5.0 §6.5.2 a plain SHA-256 is an adequate store and a code can be looked up by its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp

ISSUER = "BlockbotX"
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
BACKUP_CODE_COUNT = 10
BACKUP_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: easy to copy by hand
BACKUP_LENGTH = 24
_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    """160 random bits in base32, the size RFC 4226 recommends."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).at(step * STEP_SECONDS)


def normalize_code(code: str) -> str:
    return "".join(code.split())


def looks_like_totp(code: str) -> bool:
    return bool(_CODE.match(normalize_code(code)))


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (within the drift window) whose code equals ``code``, else None."""
    code = normalize_code(code)
    if not _CODE.match(code):
        return None
    current = time_step(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate (no early exit) so timing says nothing about which matched.
        if hmac.compare_digest(code_at(secret, step), code):
            found = step
    return found


def new_backup_codes(count: int = BACKUP_CODE_COUNT) -> list[str]:
    return [
        _format(secrets.choice(BACKUP_ALPHABET) for _ in range(BACKUP_LENGTH)) for _ in range(count)
    ]


def _format(chars) -> str:
    raw = "".join(chars)
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalize_backup_code(code: str) -> str | None:
    """Lower-case with spaces and dashes removed; None when it can't be a backup code."""
    raw = "".join(ch for ch in code.lower() if ch not in " -\t")
    if len(raw) != BACKUP_LENGTH or any(ch not in BACKUP_ALPHABET for ch in raw):
        return None
    return raw


def hash_backup_code(code: str) -> str | None:
    raw = normalize_backup_code(code)
    if raw is None:
        return None
    return hashlib.sha256(f"blockbotx-backup|{raw}".encode()).hexdigest()
