"""Wallet addresses: EVM chains use 20-byte hex addresses with the EIP-55 mixed-case checksum.

EIP-55: hash the lower-case hex address (without ``0x``) with Keccak-256; a letter is upper
case exactly when the matching nibble of the hash is 8 or more. An all-lower or all-upper address
carries no checksum; it is accepted and stored in checksummed form. A mixed-case address with a
wrong checksum is refused: it is almost certainly mistyped.
"""

from __future__ import annotations

import re

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.defi.keccak import keccak256
from core.errors import InvalidInput

EVM_CHAINS = ("ethereum", "bsc", "polygon")
_HEX40 = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_SECP256K1_ORDER = int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)


def checksum(address: str) -> str:
    """The EIP-55 form of a 0x-prefixed 40-hex-digit address."""
    lower = address[2:].lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower)
    )


def normalise_chain(chain: str) -> str:
    name = (chain or "").strip().lower()
    if name not in EVM_CHAINS:
        raise InvalidInput(
            f"Unsupported chain {chain!r}: BlockbotX supports {', '.join(EVM_CHAINS)}.",
            field="chain",
        )
    return name


def validate_address(address: str, chain: str = "ethereum", *, field: str = "address") -> str:
    """The checksummed address, or InvalidInput saying what is wrong with it."""
    normalise_chain(chain)
    text = (address or "").strip()
    if not _HEX40.match(text):
        raise InvalidInput(
            f"{text!r} is not an address: expected 0x followed by 40 hex digits.", field=field
        )
    body = text[2:]
    proper = checksum(text)
    if body != body.lower() and body != body.upper() and text != proper:
        raise InvalidInput(
            f"{text} fails its EIP-55 checksum (mistyped?); the checksummed form differs.",
            field=field,
        )
    return proper


def address_of_key(private_key: str) -> str:
    """The checksummed address of a secp256k1 private key given as 64 hex digits."""
    text = (private_key or "").strip()
    if not _HEX64.match(text):
        raise InvalidInput(
            "A private key is 64 hex digits (optionally with 0x).", field="private_key"
        )
    secret = int(text.removeprefix("0x"), 16)
    if not 0 < secret < _SECP256K1_ORDER:
        raise InvalidInput("That private key is out of range for secp256k1.", field="private_key")
    public = (
        ec.derive_private_key(secret, ec.SECP256K1())
        .public_key()
        .public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    )
    return checksum("0x" + keccak256(public[1:])[-20:].hex())
