"""The secret vault: AES-256-GCM with a random 96-bit nonce and associated data.

The associated data binds each ciphertext to its table, owner and field, so a ciphertext copied
into another row, another user's row or another column fails to decrypt. Stored form:
``v1:<key id>:<base64(nonce || ciphertext || tag)>``; the key id (first 8 hex digits of the
key's SHA-256) lets ``vault rotate`` tell which rows still use an old key.

Rotation (``core.security.rotation``) keeps the outgoing key as a *previous* key until every
row is re-encrypted, so a rotation cut short never leaves a secret undecryptable: the vault
decrypts with whichever of its keys the ciphertext names and always encrypts with the current.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core import paths

log = logging.getLogger(__name__)

KEYRING_SERVICE = "blockbotx"
KEYRING_USERNAME = "master-key"
KEYRING_PREVIOUS = "master-key-previous"
PREVIOUS_ENV = "BLOCKBOTX_PREVIOUS_MASTER_KEY"
KEY_BYTES = 32
NONCE_BYTES = 12
VERSION = "v1"


class VaultError(Exception):
    """A secret could not be decrypted (wrong key, wrong owner/field, or tampered)."""


def _aad(table: str, owner_id: str, field: str) -> bytes:
    return f"blockbotx|{table}|{owner_id}|{field}".encode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


@dataclass(frozen=True)
class Vault:
    key: bytes
    source: str = "explicit"
    previous: tuple[bytes, ...] = ()
    """Older keys, used only to decrypt what was sealed before a rotation."""

    def __post_init__(self) -> None:
        if any(len(k) != KEY_BYTES for k in (self.key, *self.previous)):
            raise ValueError("the master key must be 32 bytes (AES-256)")

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    def encrypt(self, plaintext: str, *, table: str, owner_id: str, field: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.key).encrypt(nonce, plaintext.encode(), _aad(table, owner_id, field))
        return f"{VERSION}:{self.key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, table: str, owner_id: str, field: str) -> str:
        try:
            version, kid, body = token.split(":", 2)
            raw = base64.b64decode(body, validate=True)
        except (ValueError, binascii.Error):
            raise VaultError(f"{table}.{field} does not hold a vault ciphertext") from None
        if version != VERSION:
            raise VaultError(f"unknown vault format {version!r}")
        key = self._key_for(kid)
        if key is None:
            raise VaultError(f"{table}.{field} was encrypted under another master key ({kid})")
        try:
            plain = AESGCM(key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(table, owner_id, field)
            )
        except InvalidTag:
            raise VaultError(f"{table}.{field} failed to decrypt for this owner") from None
        return plain.decode()

    def encrypted_with_this_key(self, token: str) -> bool:
        return token.split(":", 2)[1:2] == [self.key_id]

    def _key_for(self, kid: str) -> bytes | None:
        for candidate in (self.key, *self.previous):
            if key_id(candidate) == kid:
                return candidate
        return None


def generate_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def decode_key(text: str) -> bytes:
    """Accept the urlsafe-base64 form we print, standard base64, or 64 hex digits."""
    text = text.strip()
    for decode in (
        base64.urlsafe_b64decode,
        base64.b64decode,
        bytes.fromhex,
    ):
        try:
            key = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(key) == KEY_BYTES:
            return key
    raise VaultError("BLOCKBOTX_MASTER_KEY must be 32 bytes in base64 or hex")


def key_file() -> Path:
    return paths.config_dir() / "master.key"


def _keyring_backend_usable() -> bool:
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
        return not isinstance(backend, fail.Keyring | null.Keyring) and backend.priority > 0
    except Exception:  # a broken keyring install must not stop the app
        return False


def _from_keyring() -> bytes | None:
    if not _keyring_backend_usable():
        return None
    import keyring

    stored = keyring.get_password(KEYRING_SERVICE, KEYRING_USERNAME)
    if stored is None:
        stored = encode_key(generate_key())
        keyring.set_password(KEYRING_SERVICE, KEYRING_USERNAME, stored)
        log.info("generated a new master key in the system keyring")
    return decode_key(stored)


def _from_file(path: Path) -> bytes:
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("master key file %s is readable by others (mode %o); fixing", path, mode)
            path.chmod(0o600)
        return decode_key(path.read_text())
    log.warning(
        "no keyring backend and no BLOCKBOTX_MASTER_KEY: generating a master key file at %s "
        "(mode 0600). Back it up: without it the stored secrets can't be decrypted.",
        path,
    )
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(encode_key(key) + "\n")
    return key


def load_master_key() -> tuple[bytes, str]:
    """The master key and where it came from: keyring, then env, then the key file."""
    key = _from_keyring()
    if key is not None:
        return key, "keyring"
    env = os.environ.get("BLOCKBOTX_MASTER_KEY")
    if env:
        return decode_key(env), "environment"
    return _from_file(key_file()), "file"


def previous_key_file() -> Path:
    return paths.config_dir() / "master.key.previous"


def _decode_many(text: str | None) -> tuple[bytes, ...]:
    return tuple(decode_key(part) for part in (text or "").replace(",", " ").split())


def load_previous_keys(source: str) -> tuple[bytes, ...]:
    """Keys a rotation still needs (left by an interrupted ``vault rotate``, or given in env)."""
    if source == "keyring":
        import keyring

        return _decode_many(keyring.get_password(KEYRING_SERVICE, KEYRING_PREVIOUS))
    if source == "environment":
        return _decode_many(os.environ.get(PREVIOUS_ENV))
    path = previous_key_file()
    return _decode_many(path.read_text()) if path.exists() else ()


def _write_secret_file(path: Path, text: str) -> None:
    """Write a 0600 file atomically: a crash leaves either the old or the new content."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def store_master_key(key: bytes, source: str) -> None:
    """Make ``key`` the current master key where ``source`` keeps it (keyring or file)."""
    if source == "keyring":
        import keyring

        keyring.set_password(KEYRING_SERVICE, KEYRING_USERNAME, encode_key(key))
    elif source == "file":
        _write_secret_file(key_file(), encode_key(key) + "\n")
    else:
        raise VaultError(f"a master key from the {source} can't be replaced by BlockbotX")


def store_previous_keys(keys: tuple[bytes, ...], source: str) -> None:
    """Keep (or, given none, forget) the keys a rotation in progress still needs."""
    text = " ".join(encode_key(k) for k in keys)
    if source == "keyring":
        import keyring
        from keyring.errors import PasswordDeleteError

        if keys:
            keyring.set_password(KEYRING_SERVICE, KEYRING_PREVIOUS, text)
        else:
            with contextlib.suppress(PasswordDeleteError):
                keyring.delete_password(KEYRING_SERVICE, KEYRING_PREVIOUS)
    elif source == "file":
        if keys:
            _write_secret_file(previous_key_file(), text + "\n")
        else:
            previous_key_file().unlink(missing_ok=True)
    else:
        raise VaultError(f"previous keys from the {source} can't be changed by BlockbotX")


def load_vault() -> Vault:
    """Read the master key (and any previous keys) now, bypassing the per-process cache."""
    key, source = load_master_key()
    previous = load_previous_keys(source)
    if previous:
        log.warning(
            "%d previous master key(s) present: a key rotation is unfinished; run "
            "`blockbotx vault rotate` to finish it",
            len(previous),
        )
    return Vault(key, source, previous)


@lru_cache(maxsize=1)
def get_vault() -> Vault:
    """The process's vault; the master key is read once."""
    return load_vault()
