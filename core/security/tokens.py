"""Opaque bearer tokens: 256 random bits, shown once, stored only as a SHA-256 hash.

Tokens this long can't be guessed, so a fast hash is the right store (no salt or argon2
needed) and lets the database find a token by its hash through a unique index. Each kind has a
short prefix so a leaked token is recognisable in a paste or a secret scanner.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

REFRESH_PREFIX = "bbxr_"
RESET_PREFIX = "bbxp_"
API_KEY_PREFIX = "bbx_"
TOKEN_BYTES = 32


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_hash(token: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(hash_token(token), stored_hash)


def new_api_key() -> tuple[str, str]:
    """A new API key and its visible prefix (``bbx_`` and 8 characters, kept in clear)."""
    visible = secrets.token_hex(4)
    return (
        f"{API_KEY_PREFIX}{visible}_{secrets.token_urlsafe(TOKEN_BYTES)}",
        f"{API_KEY_PREFIX}{visible}",
    )


def sign(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def verify_signature(key: bytes, message: str, signature: str) -> bool:
    return hmac.compare_digest(sign(key, message), signature)
