"""DeFi wallets and positions for the acting user; the protocol and pool registries.

Wallets are added by address and chain (EIP-55 checked). A *managed* wallet also holds its
private key, which is checked against the address and stored only as vault ciphertext bound to
the owner; it is never returned. Positions (staking, farm, liquidity) belong to a wallet; their
values come from current token prices handed in by the caller (``prices``: symbol → USD), their
rewards accrue from APY over time and liquidity positions carry constant-product impermanent
loss (formulas in ``core.defi.maths`` and docs/defi.md). Functions take ``(session, actor,
...)`` and run in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.defi import (
    DeFiProtocol,
    FarmPosition,
    LiquidityPool,
    LiquidityPosition,
    StakingPosition,
    Wallet,
)
from core.defi import maths
from core.defi.address import address_of_key, normalise_chain, validate_address
from core.errors import Conflict, InvalidInput, NotFound
from core.security.vault import get_vault
from core.services.actor import Actor, require_admin
from core.services.audit import audit
from core.services.rows import loaded

STABLECOINS = ("USDT", "USDC", "DAI", "BUSD")
NAME_MAX = 64
Prices = Mapping[str, Decimal]


# --- input ---------------------------------------------------------------------------------


def amount(value: Any, field: str, *, positive: bool = True) -> Decimal:
    """A Decimal from a Decimal, int or numeric string; floats are refused (money is exact)."""
    if isinstance(value, float | bool):
        raise InvalidInput(
            f"{field} must be given exactly (a Decimal or a string), not a float.", field=field
        )
    try:
        result = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise InvalidInput(f"{field} must be a number, not {value!r}.", field=field) from None
    if not result.is_finite():
        raise InvalidInput(f"{field} must be a finite number.", field=field)
    if (positive and result <= 0) or (not positive and result < 0):
        raise InvalidInput(
            f"{field} must be {'more than' if positive else 'at least'} zero.", field=field
        )
    if abs(result) >= Decimal("1e34"):
        raise InvalidInput(f"{field} is too large.", field=field)
    return result


def _name(value: str, field: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > NAME_MAX:
        raise InvalidInput(f"{field} must be 1 to {NAME_MAX} characters.", field=field)
    return text


def _symbol(value: str, field: str) -> str:
    return _name(value, field).upper()


def _apy(value: Any) -> Decimal:
    apy = amount(value, "apy", positive=False)
    if apy > 100_000:
        raise InvalidInput(
            "apy is a yearly percentage; above 100000 % is not credible.", field="apy"
        )
    return apy


def price_of(prices: Prices, symbol: str) -> Decimal:
    """The USD price of ``symbol``; the usual stablecoins default to 1."""
    key = symbol.upper()
    if key in prices:
        return amount(prices[key], f"price of {key}")
    if key in STABLECOINS:
        return Decimal(1)
    raise InvalidInput(f"No current price for {key}.", field="prices")


# --- views ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WalletView:
    id: str
    address: str
    chain: str
    name: str | None
    is_active: bool
    managed: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StakingView:
    id: str
    wallet_id: str
    protocol: str
    chain: str
    token_address: str
    token_symbol: str
    amount: Decimal
    rewards: Decimal
    apy: Decimal
    value_usd: Decimal
    staked_at: datetime
    last_updated: datetime
    status: str


@dataclass(frozen=True, slots=True)
class FarmView:
    id: str
    wallet_id: str
    protocol: str
    chain: str
    token0_symbol: str
    token1_symbol: str
    token0_amount: Decimal
    token1_amount: Decimal
    lp_token_amount: Decimal
    value_usd: Decimal
    apy: Decimal
    rewards_earned: Decimal
    reward_token_symbol: str | None
    deposited_at: datetime
    last_harvest: datetime | None
    last_updated: datetime
    status: str


@dataclass(frozen=True, slots=True)
class LiquidityView:
    id: str
    wallet_id: str
    protocol: str
    chain: str
    pool_address: str
    token0_symbol: str
    token1_symbol: str
    token0_amount: Decimal
    token1_amount: Decimal
    initial_token0_amount: Decimal
    initial_token1_amount: Decimal
    initial_value_usd: Decimal
    current_value_usd: Decimal
    hold_value_usd: Decimal
    impermanent_loss: Decimal
    """USD lost against simply holding the deposit (≥ 0)."""
    impermanent_loss_percent: Decimal
    """2·√r/(1+r) − 1, as a percentage (≤ 0)."""
    fees_earned: Decimal
    added_at: datetime
    last_updated: datetime
    status: str


@dataclass(frozen=True, slots=True)
class Portfolio:
    staking: tuple[StakingView, ...]
    farms: tuple[FarmView, ...]
    liquidity: tuple[LiquidityView, ...]

    @property
    def total_value_usd(self) -> Decimal:
        active = (
            [s.value_usd for s in self.staking if s.status == "active"]
            + [f.value_usd for f in self.farms if f.status == "active"]
            + [p.current_value_usd for p in self.liquidity if p.status == "active"]
        )
        return sum(active, Decimal(0))


def _wallet_view(w: Wallet) -> WalletView:
    return WalletView(
        w.id, w.address, w.chain, w.name, w.is_active, w.encrypted_key is not None, w.created_at
    )


def _staking_view(p: StakingPosition) -> StakingView:
    return StakingView(
        p.id, p.wallet_id, p.protocol, p.chain, p.token_address, p.token_symbol, p.amount,
        p.rewards, p.apy, p.value_usd, p.staked_at, p.last_updated, p.status,
    )  # fmt: skip


def _farm_view(p: FarmPosition) -> FarmView:
    return FarmView(
        p.id, p.wallet_id, p.protocol, p.chain, p.token0_symbol, p.token1_symbol,
        p.token0_amount, p.token1_amount, p.lp_token_amount, p.value_usd, p.apy,
        p.rewards_earned, p.reward_token_symbol, p.deposited_at, p.last_harvest,
        p.last_updated, p.status,
    )  # fmt: skip


def _liquidity_view(p: LiquidityPosition) -> LiquidityView:
    with maths.precise():
        hold = p.current_value_usd + p.impermanent_loss
        pct = maths.stored(-p.impermanent_loss / hold * maths.HUNDRED) if hold > 0 else Decimal(0)
    return LiquidityView(
        p.id, p.wallet_id, p.protocol, p.chain, p.pool_address, p.token0_symbol,
        p.token1_symbol, p.token0_amount, p.token1_amount, p.initial_token0_amount,
        p.initial_token1_amount, p.initial_value_usd, p.current_value_usd, hold,
        p.impermanent_loss, pct, p.fees_earned, p.added_at, p.last_updated, p.status,
    )  # fmt: skip


# --- wallets -------------------------------------------------------------------------------


async def add_wallet(
    session: AsyncSession,
    actor: Actor,
    *,
    address: str | None,
    chain: str,
    name: str | None = None,
    private_key: str | None = None,
) -> WalletView:
    """Track a wallet; with ``private_key`` it is a managed wallet (key kept in the vault)."""
    chain = normalise_chain(chain)
    if private_key:
        derived = address_of_key(private_key)
        if address and validate_address(address, chain) != derived:
            raise InvalidInput(
                "That private key does not belong to this address.", field="private_key"
            )
        address = derived
    elif not address:
        raise InvalidInput("Give the wallet's address.", field="address")
    address = validate_address(address, chain)
    if await session.scalar(
        select(Wallet.id).where(
            Wallet.user_id == actor.user_id, Wallet.address == address, Wallet.chain == chain
        )
    ):
        raise Conflict(f"You already track {address} on {chain}.")
    wallet = Wallet(
        user_id=actor.user_id,
        address=address,
        chain=chain,
        name=_name(name, "name") if name else None,
    )
    if private_key:
        wallet.encrypted_key = get_vault().encrypt(
            private_key.strip().removeprefix("0x").lower(),
            table="wallets",
            owner_id=actor.user_id,
            field="encrypted_key",
        )
    session.add(wallet)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent add of the same wallet
        raise Conflict(f"You already track {address} on {chain}.") from None
    return _wallet_view(await loaded(session, wallet))


async def list_wallets(session: AsyncSession, actor: Actor) -> list[WalletView]:
    rows = await session.scalars(
        select(Wallet).where(Wallet.user_id == actor.user_id).order_by(Wallet.created_at, Wallet.id)
    )
    return [_wallet_view(w) for w in rows]


async def _wallet(session: AsyncSession, actor: Actor, wallet_id: str) -> Wallet:
    row = await session.scalar(
        select(Wallet).where(Wallet.id == wallet_id, Wallet.user_id == actor.user_id)
    )
    if row is None:
        raise NotFound(f"No wallet {wallet_id!r}.")
    return row


async def set_wallet_active(
    session: AsyncSession, actor: Actor, wallet_id: str, active: bool
) -> WalletView:
    wallet = await _wallet(session, actor, wallet_id)
    wallet.is_active = active
    return _wallet_view(await loaded(session, wallet))


async def rename_wallet(
    session: AsyncSession, actor: Actor, wallet_id: str, name: str | None
) -> WalletView:
    """Give a wallet a name (an empty name clears it)."""
    wallet = await _wallet(session, actor, wallet_id)
    wallet.name = _name(name, "name") if name and name.strip() else None
    return _wallet_view(await loaded(session, wallet))


async def remove_wallet(session: AsyncSession, actor: Actor, wallet_id: str) -> None:
    """Stop tracking a wallet; its positions go with it (and a managed key is destroyed)."""
    await session.delete(await _wallet(session, actor, wallet_id))
    await session.flush()


# --- positions -----------------------------------------------------------------------------


def _token_pair(
    wallet: Wallet,
    protocol: str,
    lp_token_address: str,
    lp_token_amount: Any,
    token0: tuple[str, Any],
    token1: tuple[str, Any],
    prices: Prices,
) -> tuple[dict[str, Any], Decimal]:
    """The columns a farm and a liquidity position share (two tokens and their LP token),
    checked, and what the two tokens are worth now."""
    s0, s1 = _symbol(token0[0], "token0_symbol"), _symbol(token1[0], "token1_symbol")
    a0, a1 = amount(token0[1], "token0_amount"), amount(token1[1], "token1_amount")
    columns = {
        "wallet_id": wallet.id,
        "protocol": _name(protocol, "protocol").lower(),
        "chain": wallet.chain,
        "lp_token_address": validate_address(
            lp_token_address, wallet.chain, field="lp_token_address"
        ),
        "lp_token_amount": amount(lp_token_amount, "lp_token_amount"),
        "token0_symbol": s0,
        "token1_symbol": s1,
        "token0_amount": a0,
        "token1_amount": a1,
    }
    return columns, maths.worth((a0, price_of(prices, s0)), (a1, price_of(prices, s1)))


async def _usable_wallet(session: AsyncSession, actor: Actor, wallet_id: str) -> Wallet:
    wallet = await _wallet(session, actor, wallet_id)
    if not wallet.is_active:
        raise Conflict("That wallet is inactive; activate it before adding positions.")
    return wallet


async def open_staking(
    session: AsyncSession,
    actor: Actor,
    wallet_id: str,
    *,
    protocol: str,
    token_address: str,
    token_symbol: str,
    amount_: Any,
    apy: Any,
    prices: Prices,
    clock: Clock = SYSTEM_CLOCK,
) -> StakingView:
    wallet = await _usable_wallet(session, actor, wallet_id)
    staked, symbol = amount(amount_, "amount"), _symbol(token_symbol, "token_symbol")
    now = clock.now()
    row = StakingPosition(
        wallet_id=wallet.id,
        protocol=_name(protocol, "protocol").lower(),
        chain=wallet.chain,
        token_address=validate_address(token_address, wallet.chain, field="token_address"),
        token_symbol=symbol,
        amount=staked,
        apy=_apy(apy),
        rewards=Decimal(0),
        value_usd=maths.worth((staked, price_of(prices, symbol))),
        staked_at=now,
        last_updated=now,
        status="active",
    )
    session.add(row)
    return _staking_view(await loaded(session, row))


async def open_farm(
    session: AsyncSession,
    actor: Actor,
    wallet_id: str,
    *,
    protocol: str,
    farm_address: str,
    lp_token_address: str,
    lp_token_amount: Any,
    token0_symbol: str,
    token1_symbol: str,
    token0_amount: Any,
    token1_amount: Any,
    apy: Any,
    reward_token_symbol: str | None,
    prices: Prices,
    clock: Clock = SYSTEM_CLOCK,
) -> FarmView:
    wallet = await _usable_wallet(session, actor, wallet_id)
    pair, value = _token_pair(
        wallet, protocol, lp_token_address, lp_token_amount,
        (token0_symbol, token0_amount), (token1_symbol, token1_amount), prices,
    )  # fmt: skip
    now = clock.now()
    row = FarmPosition(
        **pair,
        farm_address=validate_address(farm_address, wallet.chain, field="farm_address"),
        value_usd=value,
        apy=_apy(apy),
        rewards_earned=Decimal(0),
        reward_token_symbol=_symbol(reward_token_symbol, "reward_token_symbol")
        if reward_token_symbol
        else None,
        deposited_at=now,
        last_updated=now,
        status="active",
    )
    if row.reward_token_symbol:
        price_of(prices, row.reward_token_symbol)  # refuse now rather than at the first refresh
    session.add(row)
    return _farm_view(await loaded(session, row))


async def open_liquidity(
    session: AsyncSession,
    actor: Actor,
    wallet_id: str,
    *,
    protocol: str,
    pool_address: str,
    lp_token_address: str,
    lp_token_amount: Any,
    token0_symbol: str,
    token1_symbol: str,
    token0_amount: Any,
    token1_amount: Any,
    prices: Prices,
    clock: Clock = SYSTEM_CLOCK,
) -> LiquidityView:
    wallet = await _usable_wallet(session, actor, wallet_id)
    pair, value = _token_pair(
        wallet, protocol, lp_token_address, lp_token_amount,
        (token0_symbol, token0_amount), (token1_symbol, token1_amount), prices,
    )  # fmt: skip
    now = clock.now()
    row = LiquidityPosition(
        **pair,
        pool_address=validate_address(pool_address, wallet.chain, field="pool_address"),
        initial_token0_amount=pair["token0_amount"],
        initial_token1_amount=pair["token1_amount"],
        initial_value_usd=value,
        current_value_usd=value,
        impermanent_loss=Decimal(0),
        fees_earned=Decimal(0),
        added_at=now,
        last_updated=now,
        status="active",
    )
    session.add(row)
    return _liquidity_view(await loaded(session, row))


def _revalue_staking(p: StakingPosition, prices: Prices, now: datetime) -> None:
    with maths.precise():
        if p.status == "active":
            span = maths.years_between(p.last_updated, now)
            p.rewards = maths.stored(
                p.rewards + maths.accrued_reward(p.amount + p.rewards, p.apy, span)
            )
        p.value_usd = maths.stored((p.amount + p.rewards) * price_of(prices, p.token_symbol))
        p.last_updated = now


def _revalue_farm(p: FarmPosition, prices: Prices, now: datetime) -> None:
    with maths.precise():
        value = p.token0_amount * price_of(prices, p.token0_symbol) + p.token1_amount * price_of(
            prices, p.token1_symbol
        )
        if p.status == "active":
            # Rewards are paid in the reward token (USD when the farm names none).
            span = maths.years_between(p.last_updated, now)
            reward_price = (
                price_of(prices, p.reward_token_symbol) if p.reward_token_symbol else Decimal(1)
            )
            earned_usd = maths.accrued_reward(value, p.apy, span)
            p.rewards_earned = maths.stored(p.rewards_earned + earned_usd / reward_price)
        p.value_usd = maths.stored(value)
        p.last_updated = now


def _revalue_liquidity(p: LiquidityPosition, prices: Prices, now: datetime) -> None:
    with maths.precise():
        p0, p1 = price_of(prices, p.token0_symbol), price_of(prices, p.token1_symbol)
        x0, y0 = p.initial_token0_amount, p.initial_token1_amount
        if p.status == "active":
            x, y = maths.pool_amounts(x0, y0, p0, p1)
            p.token0_amount, p.token1_amount = maths.stored(x), maths.stored(y)
        hold = x0 * p0 + y0 * p1
        pool = p.token0_amount * p0 + p.token1_amount * p1
        p.current_value_usd = maths.stored(pool)
        p.impermanent_loss = maths.stored(max(hold - pool, Decimal(0)))
        p.last_updated = now


# One of the three position models (they share wallet_id, created_at, id and status).
_Model = Any


async def _positions(session: AsyncSession, actor: Actor, model: _Model, *extra: Any) -> list[Any]:
    stmt = (
        select(model)
        .join(Wallet, Wallet.id == model.wallet_id)
        .where(Wallet.user_id == actor.user_id, *extra)
        .order_by(model.created_at, model.id)
    )
    return list(await session.scalars(stmt))


async def portfolio(session: AsyncSession, actor: Actor) -> Portfolio:
    return Portfolio(
        staking=tuple(_staking_view(p) for p in await _positions(session, actor, StakingPosition)),
        farms=tuple(_farm_view(p) for p in await _positions(session, actor, FarmPosition)),
        liquidity=tuple(
            _liquidity_view(p) for p in await _positions(session, actor, LiquidityPosition)
        ),
    )


async def refresh_positions(
    session: AsyncSession, actor: Actor, prices: Prices, *, clock: Clock = SYSTEM_CLOCK
) -> Portfolio:
    """Accrue rewards up to now and revalue every active position at ``prices``."""
    now = clock.now()
    for p in await _positions(session, actor, StakingPosition, StakingPosition.status == "active"):
        _revalue_staking(p, prices, now)
    for p in await _positions(session, actor, FarmPosition, FarmPosition.status == "active"):
        _revalue_farm(p, prices, now)
    for p in await _positions(
        session, actor, LiquidityPosition, LiquidityPosition.status == "active"
    ):
        _revalue_liquidity(p, prices, now)
    await session.flush()
    return await portfolio(session, actor)


_CLOSED = {StakingPosition: "completed", FarmPosition: "withdrawn", LiquidityPosition: "removed"}
_REVALUE: dict[_Model, Callable[[Any, Prices, datetime], None]] = {
    StakingPosition: _revalue_staking,
    FarmPosition: _revalue_farm,
    LiquidityPosition: _revalue_liquidity,
}
_VIEW: dict[_Model, Callable[[Any], StakingView | FarmView | LiquidityView]] = {
    StakingPosition: _staking_view,
    FarmPosition: _farm_view,
    LiquidityPosition: _liquidity_view,
}
KINDS: dict[str, _Model] = {
    "staking": StakingPosition,
    "farm": FarmPosition,
    "liquidity": LiquidityPosition,
}


async def close_position(
    session: AsyncSession,
    actor: Actor,
    kind: str,
    position_id: str,
    prices: Prices,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> StakingView | FarmView | LiquidityView:
    """Final accrual and valuation, then unstake / withdraw / remove."""
    model = KINDS.get(kind)
    if model is None:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}.", field="kind")
    found = await _positions(session, actor, model, model.id == position_id)
    if not found:
        raise NotFound(f"No {kind} position {position_id!r}.")
    row = found[0]
    if row.status != "active":
        raise Conflict(f"That {kind} position is already {row.status}.")
    _REVALUE[model](row, prices, clock.now())
    row.status = _CLOSED[model]
    return _VIEW[model](await loaded(session, row))


async def harvest_farm(
    session: AsyncSession,
    actor: Actor,
    position_id: str,
    prices: Prices,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> Decimal:
    """Accrue, then collect the farm's rewards; returns the amount harvested (reward token)."""
    found = await _positions(session, actor, FarmPosition, FarmPosition.id == position_id)
    if not found:
        raise NotFound(f"No farm position {position_id!r}.")
    row = found[0]
    if row.status != "active":
        raise Conflict(f"That farm position is already {row.status}.")
    now = clock.now()
    _revalue_farm(row, prices, now)
    harvested, row.rewards_earned, row.last_harvest = row.rewards_earned, Decimal(0), now
    await session.flush()
    return harvested


# --- registries ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProtocolView:
    id: str
    name: str
    chain: str
    category: str
    tvl: Decimal
    volume_24h: Decimal
    website: str | None
    description: str | None
    is_active: bool


@dataclass(frozen=True, slots=True)
class PoolView:
    id: str
    protocol: str
    chain: str
    pair: str
    token0: str
    token1: str
    tvl: Decimal
    apy: Decimal
    volume_24h: Decimal
    active: bool


PROTOCOL_CATEGORIES = ("dex", "lending", "staking", "yield")


async def list_protocols(
    session: AsyncSession, actor: Actor, *, chain: str | None = None, category: str | None = None
) -> list[ProtocolView]:
    stmt = select(DeFiProtocol).where(DeFiProtocol.is_active.is_(True))
    if chain:
        stmt = stmt.where(DeFiProtocol.chain == normalise_chain(chain))
    if category:
        if category not in PROTOCOL_CATEGORIES:
            raise InvalidInput(
                f"category must be one of {', '.join(PROTOCOL_CATEGORIES)}.", field="category"
            )
        stmt = stmt.where(DeFiProtocol.category == category)
    rows = await session.scalars(stmt.order_by(DeFiProtocol.name))
    return [
        ProtocolView(
            r.id,
            r.name,
            r.chain,
            r.category,
            r.tvl,
            r.volume_24h,
            r.website,
            r.description,
            r.is_active,
        )
        for r in rows
    ]


def _pool_view(r: LiquidityPool) -> PoolView:
    return PoolView(
        r.id, r.protocol, r.chain, r.pair, r.token0, r.token1, r.tvl, r.apy, r.volume_24h, r.active
    )


async def list_pools(
    session: AsyncSession, actor: Actor, *, chain: str | None = None, protocol: str | None = None
) -> list[PoolView]:
    stmt = select(LiquidityPool).where(LiquidityPool.active.is_(True))
    if chain:
        stmt = stmt.where(LiquidityPool.chain == normalise_chain(chain))
    if protocol:
        stmt = stmt.where(LiquidityPool.protocol == protocol.strip().lower())
    rows = await session.scalars(stmt.order_by(LiquidityPool.protocol, LiquidityPool.pair))
    return [_pool_view(r) for r in rows]


async def register_pool(
    session: AsyncSession,
    actor: Actor,
    *,
    protocol: str,
    chain: str,
    token0_symbol: str,
    token0_address: str,
    token1_symbol: str,
    token1_address: str,
    clock: Clock = SYSTEM_CLOCK,
) -> PoolView:
    """Admins: add a pool to the registry (TVL, APY and volume start unknown, at 0)."""
    actor = await require_admin(session, actor)
    chain = normalise_chain(chain)
    protocol = _name(protocol, "protocol").lower()
    t0 = validate_address(token0_address, chain, field="token0_address")
    t1 = validate_address(token1_address, chain, field="token1_address")
    if t0 == t1:
        raise InvalidInput("A pool needs two different tokens.", field="token1_address")
    pair = f"{_symbol(token0_symbol, 'token0_symbol')}/{_symbol(token1_symbol, 'token1_symbol')}"
    if await session.scalar(
        select(LiquidityPool.id).where(
            LiquidityPool.protocol == protocol,
            LiquidityPool.chain == chain,
            LiquidityPool.pair == pair,
        )
    ):
        raise Conflict(f"{protocol} already lists {pair} on {chain}.")
    row = LiquidityPool(
        protocol=protocol, chain=chain, pair=pair, token0=t0, token1=t1,
        tvl=Decimal(0), apy=Decimal(0), volume_24h=Decimal(0),
    )  # fmt: skip
    session.add(row)
    await session.flush()
    await audit(
        session,
        user_id=actor.user_id,
        action="defi_pool_registered",
        at=clock.now(),
        ip_address=actor.ip_address,
        details={"pool_id": row.id, "protocol": protocol, "chain": chain, "pair": pair},
    )
    return _pool_view(await loaded(session, row))
