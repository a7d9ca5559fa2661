"""The ``exchanges`` and ``trading_pairs`` rows: each pair's precision, size and value limits
and fees.

``sync_markets`` loads them from a feed (ccxt ``load_markets`` or the simulated market's own
list) and upserts them; pairs the market no longer lists are marked inactive, never deleted
(orders and trades point at them). ``load_pair`` is what order placement reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.trading import Exchange, TradingPair
from core.ids import new_id
from core.market.errors import UnknownSymbol
from core.market.feed import MarketFeed
from core.market.types import MarketInfo

DEFAULT_FEES = {"maker": "0.001", "taker": "0.001"}


@dataclass(frozen=True, slots=True)
class Pair:
    """A stored pair with the fee schedule of its exchange applied."""

    exchange_id: str
    pair_id: str
    exchange: str
    info: MarketInfo

    @property
    def symbol(self) -> str:
        return self.info.symbol


def fee_schedule(fees: dict[str, Any] | None) -> tuple[Decimal, Decimal]:
    """(maker, taker) from an ``exchanges.fees`` value; 0.1 % each when unset."""
    fees = fees or {}
    return Decimal(str(fees.get("maker", DEFAULT_FEES["maker"]))), Decimal(
        str(fees.get("taker", DEFAULT_FEES["taker"]))
    )


async def sync_markets(session: AsyncSession, feed: MarketFeed) -> dict[str, Pair]:
    """Upsert the feed's exchange and every pair it lists; return the active pairs by symbol."""
    markets = await feed.markets()
    if markets:
        fees = {"maker": str(markets[0].maker_fee), "taker": str(markets[0].taker_fee)}
    else:
        fees = dict(DEFAULT_FEES)
    stmt = insert(Exchange).values(
        id=new_id(),
        name=feed.name,
        api_url=feed.api_url,
        supported_pairs=[m.symbol for m in markets],
        fees=fees,
        active=True,
    )
    exchange_id = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[Exchange.name],
            set_={
                "api_url": stmt.excluded.api_url,
                "supported_pairs": stmt.excluded.supported_pairs,
                "fees": stmt.excluded.fees,
                "active": True,
                "updated_at": func.now(),
            },
        ).returning(Exchange.id)
    )
    if markets:
        rows = [
            {
                "id": new_id(),
                "exchange_id": exchange_id,
                "symbol": m.symbol,
                "base": m.base,
                "quote": m.quote,
                "min_order_size": m.min_quantity,
                "max_order_size": m.max_quantity,
                "price_precision": m.price_precision,
                "quantity_precision": m.quantity_precision,
                "min_notional": m.min_notional,
                "active": m.active,
            }
            for m in markets
        ]
        pairs = insert(TradingPair).values(rows)
        await session.execute(
            pairs.on_conflict_do_update(
                index_elements=[TradingPair.exchange_id, TradingPair.symbol],
                set_={
                    name: getattr(pairs.excluded, name)
                    for name in (
                        "base",
                        "quote",
                        "min_order_size",
                        "max_order_size",
                        "price_precision",
                        "quantity_precision",
                        "min_notional",
                        "active",
                    )
                }
                | {"updated_at": func.now()},
            )
        )
    await session.execute(
        update(TradingPair)
        .where(
            TradingPair.exchange_id == exchange_id,
            TradingPair.symbol.not_in([m.symbol for m in markets]),
        )
        .values(active=False)
    )
    return await load_pairs(session, feed.name)


def _pair(exchange: Exchange, row: TradingPair) -> Pair:
    maker, taker = fee_schedule(exchange.fees)
    return Pair(
        exchange_id=exchange.id,
        pair_id=row.id,
        exchange=exchange.name,
        info=MarketInfo(
            symbol=row.symbol,
            base=row.base,
            quote=row.quote,
            price_precision=row.price_precision,
            quantity_precision=row.quantity_precision,
            min_quantity=row.min_order_size,
            max_quantity=row.max_order_size,
            maker_fee=maker,
            taker_fee=taker,
            active=row.active,
            min_notional=row.min_notional,
        ),
    )


async def load_pairs(session: AsyncSession, exchange: str) -> dict[str, Pair]:
    rows = await session.execute(
        select(Exchange, TradingPair)
        .join(TradingPair, TradingPair.exchange_id == Exchange.id)
        .where(Exchange.name == exchange, TradingPair.active.is_(True))
    )
    return {pair.symbol: _pair(ex, pair) for ex, pair in rows}


async def load_pair(session: AsyncSession, exchange: str, symbol: str) -> Pair:
    row = (
        await session.execute(
            select(Exchange, TradingPair)
            .join(TradingPair, TradingPair.exchange_id == Exchange.id)
            .where(Exchange.name == exchange, TradingPair.symbol == symbol)
        )
    ).first()
    if row is None or not row[1].active or not row[0].active:
        raise UnknownSymbol(f"{symbol!r} is not an active pair on {exchange}.", field="symbol")
    return _pair(*row)


async def load_pair_by_id(session: AsyncSession, pair_id: str) -> Pair:
    row = (
        await session.execute(
            select(Exchange, TradingPair)
            .join(TradingPair, TradingPair.exchange_id == Exchange.id)
            .where(TradingPair.id == pair_id)
        )
    ).first()
    if row is None:
        raise UnknownSymbol(f"No trading pair {pair_id!r}.", field="symbol")
    return _pair(*row)
