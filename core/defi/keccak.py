"""Keccak-256 as Ethereum uses it (the original Keccak padding, not NIST SHA3-256).

Pure Python: addresses are 20 bytes, so speed does not matter, and no extra dependency is
needed. The permutation is shared with SHA3; a test checks it against ``hashlib.sha3_256``
by switching only the padding byte.
"""

from __future__ import annotations

_MASK = (1 << 64) - 1


def _round_constants() -> list[int]:
    """The 24 iota constants, from the LFSR of the Keccak reference (FIPS 202, 3.2.5)."""

    def rc(t: int) -> int:
        r = 1
        for _ in range(t % 255):
            r <<= 1
            if r & 0x100:
                r ^= 0x171  # x^8 + x^6 + x^5 + x^4 + 1
        return r & 1

    return [sum(rc(j + 7 * i) << ((1 << j) - 1) for j in range(7)) for i in range(24)]


def _rotations() -> list[list[int]]:
    rot = [[0] * 5 for _ in range(5)]
    x, y = 1, 0
    for t in range(24):
        rot[x][y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return rot


_RC = _round_constants()
_ROT = _rotations()


def _rol(v: int, n: int) -> int:
    return ((v << n) | (v >> (64 - n))) & _MASK if n else v


def _permute(a: list[list[int]]) -> None:
    for rc in _RC:
        c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        for x in range(5):
            for y in range(5):
                a[x][y] ^= d[x]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rol(a[x][y], _ROT[x][y])
        for x in range(5):
            for y in range(5):
                a[x][y] = b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y])
        a[0][0] ^= rc


def sponge(data: bytes, *, pad: int, rate: int = 136, out: int = 32) -> bytes:
    """The Keccak sponge with capacity 512 bits; ``pad`` 0x01 is Keccak, 0x06 is SHA3."""
    msg = bytearray(data)
    msg.append(pad)
    msg.extend(b"\x00" * (-len(msg) % rate))
    msg[-1] |= 0x80
    a = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        block = msg[off : off + rate]
        for i in range(rate // 8):
            a[i % 5][i // 5] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
        _permute(a)
    digest = b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(rate // 8))
    return digest[:out]


def keccak256(data: bytes) -> bytes:
    return sponge(data, pad=0x01)
