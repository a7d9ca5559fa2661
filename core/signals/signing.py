"""The webhook request signature: HMAC-SHA256 of ``<timestamp>.<body>`` with the provider's key.

The timestamp (unix seconds, header ``X-Signal-Timestamp``) is inside the signed text, so an old
request can't be made fresh by changing the header; the signature (header
``X-Signal-Signature``, lower-case hex, optionally prefixed ``sha256=``) is compared in constant
time. A request is fresh while its timestamp is within ``WINDOW_SECONDS`` of the receiver's clock
either way (clock skew), and its signature is remembered that long to refuse a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TIMESTAMP_HEADER = "X-Signal-Timestamp"
SIGNATURE_HEADER = "X-Signal-Signature"
WINDOW_SECONDS = 300
KEY_PREFIX = "bbxsig_"

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^(?:sha256=)?([0-9a-fA-F]{64})$")


def generate_key() -> str:
    """A new signing key: ``bbxsig_`` and 43 URL-safe characters (256 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def sign(key: str, timestamp: int | str, body: bytes) -> str:
    """The hex signature a sender puts in ``X-Signal-Signature``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def parse_timestamp(value: str | None) -> int | None:
    """The header's unix seconds, or None when it is not a plain non-negative integer."""
    if value is None or not _TIMESTAMP.match(value.strip()):
        return None
    return int(value.strip())


def parse_signature(value: str | None) -> str | None:
    """The presented signature as lower-case hex, or None when it is not 64 hex digits."""
    match = _SIGNATURE.match(value.strip()) if value is not None else None
    return match.group(1).lower() if match else None


def signature_matches(key: str, timestamp: str, body: bytes, presented_hex: str) -> bool:
    return hmac.compare_digest(sign(key, timestamp, body), presented_hex)


def is_fresh(timestamp: int, now_seconds: float, window: int = WINDOW_SECONDS) -> bool:
    return abs(now_seconds - timestamp) <= window
