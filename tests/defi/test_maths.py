"""Keccak-256, EIP-55 and the position maths against hand-computed values, in Decimal."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from decimal import localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.defi import maths
from core.defi.address import address_of_key, checksum, validate_address
from core.defi.keccak import keccak256, sponge
from core.errors import InvalidInput


def test_keccak256_known_digests() -> None:
    assert (
        keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert (
        keccak256(b"abc").hex()
        == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=400))
def test_permutation_matches_hashlib_sha3(data: bytes) -> None:
    # SHA3-256 is the same sponge with the 0x06 padding byte
    assert sponge(data, pad=0x06) == hashlib.sha3_256(data).digest()


EIP55_EXAMPLES = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("address", EIP55_EXAMPLES)
def test_eip55_examples(address: str) -> None:
    assert checksum(address.lower()) == address
    assert validate_address(address.lower(), "polygon") == address
    assert validate_address(address.upper().replace("0X", "0x"), "bsc") == address
    broken = address[:-1] + (address[-1].swapcase() if address[-1].isalpha() else "A")
    if broken[2:] not in (broken[2:].lower(), broken[2:].upper()):
        with pytest.raises(InvalidInput, match="EIP-55 checksum"):
            validate_address(broken)


@pytest.mark.parametrize(
    ("address", "chain", "message"),
    [
        ("0x123", "ethereum", "40 hex digits"),
        ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "ethereum", "40 hex digits"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeZ", "ethereum", "40 hex digits"),
        ("0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "ethereum", "checksum"),
        ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "solana", "Unsupported chain"),
    ],
)
def test_bad_addresses(address: str, chain: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_address(address, chain)


def test_private_key_to_address() -> None:
    # the well-known example key of the Ethereum account docs
    key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
    assert address_of_key(key) == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
    with pytest.raises(InvalidInput, match="64 hex digits"):
        address_of_key("0x1234")
    with pytest.raises(InvalidInput, match="out of range"):
        address_of_key("0" * 64)


# --- rewards ------------------------------------------------------------------------------


def test_rewards_from_apy_hand_computed() -> None:
    year = maths.years(timedelta(days=365))
    assert year == 1
    # 1000 at 10 % APY: one year → 100; two years → 1000·(1.1² − 1) = 210
    assert maths.accrued_reward(D(1000), D(10), year) == D(100)
    assert maths.accrued_reward(D(1000), D(10), D(2)) == D(210)
    # half a year → 1000·(√1.1 − 1), √1.1 = 1.04880884817015154699145351367993759847527185768150…
    half = maths.accrued_reward(D(1000), D(10), maths.years(timedelta(days=182, hours=12)))
    assert maths.stored(half) == D("48.808848170151546991453513679938")
    # 0 % or no time: nothing
    assert maths.accrued_reward(D(1000), D(0), D(1)) == 0
    assert maths.accrued_reward(D(1000), D(10), D(0)) == 0
    with pytest.raises(InvalidInput):
        maths.growth(D(-1), D(1))


def test_accrual_does_not_depend_on_update_frequency() -> None:
    balance, apy = D(1000), D(10)
    for _ in range(4):  # four quarterly updates, each on the balance including rewards
        balance += maths.accrued_reward(balance, apy, D("0.25"))
    assert maths.stored(balance) == D("1100.000000000000000000000000000000")


def test_years_is_exact() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert maths.years_between(start, start + timedelta(days=73)) == D("0.2")
    assert maths.years_between(start, start - timedelta(days=1)) == 0


# --- impermanent loss -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (D(1), D(0)),
        (D(4), D("-0.2")),  # 2·2/5 − 1
        (D("0.25"), D("-0.2")),  # symmetric: 2·0.5/1.25 − 1
        (D(9), D("-0.4")),  # 2·3/10 − 1
        (D("2.25"), D("-0.076923076923076923076923076923")),  # 2·1.5/3.25 − 1 = −1/13
    ],
)
def test_impermanent_loss_hand_computed(ratio: D, expected: D) -> None:
    assert maths.stored(maths.impermanent_loss(ratio)) == maths.stored(expected)


def test_constant_product_amounts_hand_computed() -> None:
    # deposit 1 ETH + 100 USDC at ETH = 100; ETH goes to 400 → k = 100, x = √(100/400) = 0.5,
    # y = √(100·400) = 200; pool worth 400 against 500 held: a 100 USD (20 %) loss
    x, y = maths.pool_amounts(D(1), D(100), D(400), D(1))
    assert (x, y) == (D("0.5"), D(200))
    assert maths.price_ratio(D(1), D(100), D(400), D(1)) == 4
    with pytest.raises(InvalidInput):
        maths.pool_amounts(D(0), D(1), D(1), D(1))
    with pytest.raises(InvalidInput):
        maths.impermanent_loss(D(0))


@settings(max_examples=50, deadline=None)
@given(
    x0=st.decimals(min_value=D("0.001"), max_value=D(10**6), places=6),
    y0=st.decimals(min_value=D("0.001"), max_value=D(10**6), places=6),
    p0=st.decimals(min_value=D("0.0001"), max_value=D(10**5), places=4),
    p1=st.decimals(min_value=D("0.0001"), max_value=D(10**5), places=4),
)
def test_pool_keeps_k_and_formula_matches_amounts(x0: D, y0: D, p0: D, p1: D) -> None:
    with localcontext(prec=60):
        _pool_checks(x0, y0, p0, p1)


def _pool_checks(x0: D, y0: D, p0: D, p1: D) -> None:
    x, y = maths.pool_amounts(x0, y0, p0, p1)
    assert abs(x * y - x0 * y0) <= x0 * y0 * D("1e-40")
    hold, pool = x0 * p0 + y0 * p1, x * p0 + y * p1
    assert pool <= hold * (1 + D("1e-40"))
    # when the deposit was balanced at its own price, pool/hold − 1 is the closed formula
    balanced_y0 = x0 * p0 / p1 * D(2)  # token0 price doubled-up since deposit: r = 1/2
    xb, yb = maths.pool_amounts(x0, balanced_y0, p0, p1)
    il = (xb * p0 + yb * p1) / (x0 * p0 + balanced_y0 * p1) - 1
    r = maths.price_ratio(x0, balanced_y0, p0, p1)
    assert abs(il - maths.impermanent_loss(r)) < D("1e-40")
