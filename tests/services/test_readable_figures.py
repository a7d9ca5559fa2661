"""Amounts rounded for reading, with their currency, wherever words carry them (DCA reasons
stored with orders, trade notifications that are e-mailed); the exact Decimal stays stored."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.db.engine import Database
from core.db.models.trading import Trade
from core.figures import amount, price
from core.services.trade_history import csv_text
from core.strategies.dca import DcaBotConfig, DcaPosition, dca_order
from tests.tui.auth_helpers import make_auth
from tests.tui.dash_helpers import bulk_trades, seed_user

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
LONG = re.compile(r"\d\.\d{9,}")  # nine decimals or more: noise, not a figure to read


def test_dca_reasons_are_rounded_with_their_currency() -> None:
    config = DcaBotConfig(symbol="ETH/USDT", cooldown_minutes=0)
    entry = Decimal("3012.345678901234567890123456")
    held = DcaPosition(
        entry, Decimal("0.0331967213114754098360655738"), 0, NOW - timedelta(hours=1)
    )
    down = dca_order(config, held, entry * Decimal("0.9499999999999"), NOW)
    assert down is not None and down.side == "BUY"
    assert not LONG.search(down.reason), down.reason
    assert "2,861.73 USDT is 5% below the average entry 3,012.35 USDT" in down.reason
    assert down.reason.endswith("level 1 buys 50% more")
    up = dca_order(config, held, entry * Decimal("1.0312345678912345"), NOW)
    assert up is not None and up.side == "SELL"
    assert not LONG.search(up.reason), up.reason
    assert "(3% over the average entry 3,012.35 USDT)" in up.reason


def test_one_core_formatter() -> None:
    assert amount(Decimal("130.4175091"), "USDT", sign=True) == "+130.42 USDT"
    assert amount(Decimal("10031.60936"), "USDT") == "10,031.61 USDT"
    assert price(Decimal("0.0000105212345"), "USDT") == "0.00001052 USDT"


async def test_csv_cells_are_exact_without_thirty_decimal_noise(db: Database) -> None:
    """The trade CSV keeps exact values (a program reads it), normalised: ``0.01``, not
    ``0.010000000000000000000000000000``."""
    actor, _ = await seed_user(db, make_auth(), "csv@example.com")
    await bulk_trades(db, actor.user_id, 30)
    rows = list(csv.DictReader(io.StringIO("".join([c async for c in await csv_text(db, actor)]))))
    assert len(rows) == 30
    async with db.session() as s:
        stored = {
            t.id: t for t in await s.scalars(select(Trade).where(Trade.user_id == actor.user_id))
        }
    for row in rows:
        for column in ("quantity", "price", "executed_price", "fee", "total", "profit_loss"):
            cell = row[column]
            assert not re.search(r"\.\d*0$", cell) and "E" not in cell, (column, cell)
            exact = getattr(stored[row["id"]], column)
            assert (Decimal(cell) if cell else None) == exact  # nothing lost
