"""A user's own fee tier on an exchange, applied to the paper fills on that exchange's prices.

A market's published maker/taker fees come from ccxt's market data (``MarketInfo``). A trader
with a VIP tier or a fee discount pays less: ``fee_tiers`` keeps, per user and exchange, the
taker fee (and optionally the maker fee) they really pay, and a paper venue on that exchange
books its fills with those (``with_fee_tier``). Live orders pay what the exchange charges.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.trading import FeeTier
from core.market.catalog import Pair


@dataclass(frozen=True, slots=True)
class FeeRates:
    """Fractions (0.00075 is 0.075 %); ``maker`` None keeps the market's maker fee."""

    taker: Decimal
    maker: Decimal | None = None


async def load_fee_tier(session: AsyncSession, user_id: str, exchange: str) -> FeeRates | None:
    row = (
        await session.execute(
            select(FeeTier.taker_fee, FeeTier.maker_fee).where(
                FeeTier.user_id == user_id, FeeTier.exchange == exchange
            )
        )
    ).first()
    return None if row is None else FeeRates(row.taker_fee, row.maker_fee)


def with_fee_tier(pair: Pair, rates: FeeRates | None) -> Pair:
    """The pair with the user's fees in place of the market's (unchanged without a tier)."""
    if rates is None:
        return pair
    info = replace(
        pair.info,
        taker_fee=rates.taker,
        maker_fee=pair.info.maker_fee if rates.maker is None else rates.maker,
    )
    return replace(pair, info=info)
