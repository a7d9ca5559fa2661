"""A user's fee tier per exchange: the fees their paper fills on that exchange's prices pay.

Each call acts for ``actor`` on the actor's own tiers (``recheck``: a banned or suspended account
can't change them). Fees are given in percent, as exchanges publish them (0.075 for 0.075 %),
and kept as fractions. See ``core.market.fee_tiers`` for where they apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.trading import FeeTier
from core.errors import InvalidInput, NotFound
from core.ids import new_id
from core.market.exchange_list import exchange_spec
from core.services.actor import SYSTEM, Actor, recheck

MAX_PERCENT = Decimal(5)
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class FeeTierView:
    exchange: str
    taker_percent: Decimal
    maker_percent: Decimal | None
    updated_at: datetime


def _view(row: FeeTier) -> FeeTierView:
    return FeeTierView(
        row.exchange,
        (row.taker_fee * HUNDRED).normalize(),
        None if row.maker_fee is None else (row.maker_fee * HUNDRED).normalize(),
        row.updated_at,
    )


def _percent(value: Decimal | str | int | None, what: str) -> Decimal:
    """A fee in percent; what is wrong with it said in words, naming its field (a form marks
    it)."""
    field = f"{what}_fee"
    text = str(value if value is not None else "").strip().rstrip("%").strip()
    if not text:
        raise InvalidInput(f"Enter the {what} fee in percent, like 0.075.", field=field)
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            f"The {what} fee must be a number of percent, like 0.075 (it is {text!r}).", field=field
        ) from None
    if not number.is_finite() or number < 0 or number > MAX_PERCENT:
        raise InvalidInput(
            f"The {what} fee must be between 0 and {MAX_PERCENT} % (it is {number:f} %).",
            field=field,
        )
    if number != number.quantize(Decimal("1e-6")):
        raise InvalidInput(f"The {what} fee has at most 6 decimals of a percent.", field=field)
    return number


async def _acting(session: AsyncSession, actor: Actor) -> Actor:
    if actor == SYSTEM:
        raise InvalidInput("A fee tier belongs to a user: act as that user.")
    return await recheck(session, actor)


async def set_fee_tier(
    session: AsyncSession,
    actor: Actor,
    exchange: str,
    *,
    taker_percent: Decimal | str,
    maker_percent: Decimal | str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> FeeTierView:
    """Set (or replace) the actor's fees on ``exchange``; the caller commits."""
    actor = await _acting(session, actor)
    exchange = exchange_spec(exchange).id
    taker = _percent(taker_percent, "taker") / HUNDRED
    maker = None if maker_percent in (None, "") else _percent(maker_percent, "maker") / HUNDRED
    now = clock.now()
    stmt = insert(FeeTier).values(
        id=new_id(),
        user_id=actor.user_id,
        exchange=exchange,
        taker_fee=taker,
        maker_fee=maker,
        created_at=now,
        updated_at=now,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[FeeTier.user_id, FeeTier.exchange],
            set_={"taker_fee": taker, "maker_fee": maker, "updated_at": now},
        )
    )
    row = await session.scalar(
        select(FeeTier)
        .where(FeeTier.user_id == actor.user_id, FeeTier.exchange == exchange)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return _view(row)


async def clear_fee_tier(session: AsyncSession, actor: Actor, exchange: str) -> None:
    """Back to the market's published fees on ``exchange``; the caller commits."""
    actor = await _acting(session, actor)
    exchange = exchange_spec(exchange).id
    result = await session.execute(
        delete(FeeTier).where(FeeTier.user_id == actor.user_id, FeeTier.exchange == exchange)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"You have no fee tier on {exchange}.")


async def list_fee_tiers(session: AsyncSession, actor: Actor) -> list[FeeTierView]:
    actor = await _acting(session, actor)
    rows = await session.scalars(
        select(FeeTier).where(FeeTier.user_id == actor.user_id).order_by(FeeTier.exchange)
    )
    return [_view(r) for r in rows]
