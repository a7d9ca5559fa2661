"""Trade history service: filters, keyset pages in every sort, totals, CSV export, bad input."""

from __future__ import annotations

import csv
import stat
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db.engine import Database
from core.db.models.users import DataExport
from core.errors import InvalidInput
from core.services import trade_history
from core.services.actor import Actor
from core.services.trade_history import TradeFilter
from tests.tui.auth_helpers import make_auth
from tests.tui.dash_helpers import NOW, bulk_trades, seed_user


async def _user(db: Database, email: str = "hist@example.com", trades: int = 0) -> Actor:
    actor, _ = await seed_user(db, make_auth(), email)
    if trades:
        await bulk_trades(db, actor.user_id, trades)
    return actor


async def _all(
    db: Database, actor: Actor, f: TradeFilter, sort: str, descending: bool
) -> list[str]:
    ids, after = [], None
    while True:
        page = await trade_history.search(
            db, actor, f, sort=sort, descending=descending, limit=37, after=after
        )
        ids += [r.trade.id for r in page.items]
        if page.next_cursor is None:
            return ids
        after = page.next_cursor


@pytest.mark.parametrize("sort", ["time", "symbol", "total", "pnl"])
async def test_keyset_pages_cover_the_set_once_in_order(db: Database, sort: str) -> None:
    actor = await _user(db, trades=300)
    other = await _user(db, "other@example.com", trades=20)
    for descending in (True, False):
        ids = await _all(db, actor, TradeFilter(), sort, descending)
        assert len(ids) == len(set(ids)) == 300  # no row twice, none missed, no one else's
        full = await trade_history.search(db, actor, sort=sort, descending=descending, limit=300)
        assert ids == [r.trade.id for r in full.items]
    assert len(await _all(db, other, TradeFilter(), sort, True)) == 20


async def test_filters_and_totals_agree(db: Database) -> None:
    actor = await _user(db, trades=200)
    f = TradeFilter(symbol="eth/usdt", side="sell", since=NOW - timedelta(hours=2))
    rows = (await trade_history.search(db, actor, f, limit=500)).items
    assert rows and all(
        r.trade.symbol == "ETH/USDT" and r.trade.side == "SELL"
        and r.trade.executed_at >= NOW - timedelta(hours=2)
        for r in rows
    )  # fmt: skip
    totals = await trade_history.totals(db, actor, f)
    assert totals.count == len(rows) and totals.sells == len(rows) and totals.buys == 0
    assert totals.volume == sum((r.trade.total for r in rows), Decimal(0))
    assert totals.realized_pnl == sum((r.trade.profit_loss or 0 for r in rows), Decimal(0))
    assert totals.wins == sum(1 for r in rows if (r.trade.profit_loss or 0) > 0)
    assert (await trade_history.totals(db, actor, TradeFilter(paper=False))).count == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"trade_filter": TradeFilter(side="hold")}, "side"),
        ({"sort": "colour"}, "sort"),
        ({"limit": 0}, "limit"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "yesterday|abc"}, "after"),
        ({"trade_filter": TradeFilter(since=NOW, until=NOW - timedelta(days=1))}, "until"),
        ({"trade_filter": TradeFilter(since=NOW.replace(tzinfo=None))}, "since"),
    ],
)
async def test_bad_input_is_a_clear_error(db: Database, kwargs: dict, field: str) -> None:
    actor = await _user(db, trades=3)
    with pytest.raises(InvalidInput) as raised:
        await trade_history.search(db, actor, **kwargs)
    assert raised.value.field == field


async def test_csv_export_writes_the_filtered_set_with_progress(
    db: Database, tmp_path: Path
) -> None:
    actor = await _user(db, trades=5200)  # more than one export batch
    seen: list[tuple[int, int]] = []
    f = TradeFilter(side="buy")
    export = await trade_history.export_csv(
        db, actor, f, clock=make_auth().clock, progress=lambda d, t: seen.append((d, t))
    )
    assert export.status == "completed" and export.export_type == "trades"
    path = Path(export.file_url or "")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2600 and {r["side"] for r in rows} == {"BUY"}
    assert rows[0]["executed_at"] > rows[-1]["executed_at"]
    assert seen[0] == (0, 2600) and seen[-1] == (2600, 2600)
    async with db.session() as session:
        stored = await session.scalar(select(DataExport).where(DataExport.id == export.id))
    assert stored is not None and stored.status == "completed"
    assert stored.expires_at == export.created_at + timedelta(days=7)
