"""Trade history: the user's trades filtered, sorted and keyset-paged, their totals, and a CSV
export of exactly the filtered set.

Paging is keyset on ``(sort value, id)``: a page is one index range scan whatever its depth, so
the newest trades of a user with a million open as fast as those of a user with a hundred (the
default sort, newest first, walks ``ix_trades_user_id_executed_at_desc``; a status filter walks
its own ``[user_id, …, executed_at DESC]`` index, a symbol filter — part of a pair, any case —
the user's newest trades until a page matches). Totals are one aggregate over
the filtered set, asked for separately so the first page never waits for them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import QueryableAttribute

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.trading import TRADE_PNL_SORT, Trade
from core.db.models.users import DataExport
from core.errors import InvalidInput
from core.figures import exact
from core.services.actor import Actor
from core.services.like import containing
from core.services.privacy import EXPORT_LIFETIME, ExportView, export_dir
from core.services.trading_views import Page, TradeView, trade_view

MAX_PAGE = 500
EXPORT_BATCH = 5000
SIDES = ("BUY", "SELL")
ZERO = Decimal(0)
CSV_COLUMNS = (
    "executed_at", "id", "symbol", "side", "type", "quantity", "price", "executed_price", "fee",
    "fee_currency", "total", "profit_loss", "status", "mode", "bot", "bot_id", "order_id",
    "position_id",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TradeFilter:
    """Every field optional; ``until`` is exclusive. ``symbol`` matches the pairs that contain
    it, whatever the case (``eth`` → ETH/USDT, ETH/BTC)."""

    symbol: str | None = None
    bot_id: str | None = None
    side: str | None = None
    paper: bool | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def checked(self) -> TradeFilter:
        side = (self.side or "").strip().upper() or None
        if side is not None and side not in SIDES:
            raise InvalidInput("Side is buy or sell.", field="side")
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and moment.tzinfo is None:
                raise InvalidInput(f"{name} needs a time zone.", field=name)
        if self.since and self.until and self.until <= self.since:
            raise InvalidInput("The date range ends before it starts.", field="until")
        return TradeFilter(
            symbol=(self.symbol or "").strip().upper() or None,
            bot_id=(self.bot_id or "").strip() or None,
            side=side,
            paper=self.paper,
            status=(self.status or "").strip().upper() or None,
            since=self.since,
            until=self.until,
        )


@dataclass(frozen=True, slots=True)
class HistoryRow:
    trade: TradeView
    status: str
    bot_name: str | None


@dataclass(frozen=True, slots=True)
class TradeTotals:
    count: int
    buys: int
    sells: int
    volume: Decimal
    """Sum of ``total`` (quote value traded)."""
    fees: Decimal
    realized_pnl: Decimal
    """Sum of ``profit_loss`` (sales that closed part of a position)."""
    wins: int
    losses: int

    @property
    def win_rate(self) -> Decimal | None:
        decided = self.wins + self.losses
        return (
            None if not decided else (Decimal(self.wins) * 100 / decided).quantize(Decimal("0.1"))
        )


# A select of any columns (SQLAlchemy 2.1 types a select by the tuple of its columns).
AnySelect = Select[*tuple[Any, ...]]

SORTS: dict[str, Callable[[], ColumnElement[Any] | QueryableAttribute[Any]]] = {
    "time": lambda: Trade.executed_at,
    "symbol": lambda: Trade.symbol,
    "total": lambda: Trade.total,
    "pnl": lambda: TRADE_PNL_SORT,  # the expression of its index
}


def _where(stmt: AnySelect, actor: Actor, f: TradeFilter) -> AnySelect:
    stmt = stmt.where(Trade.user_id == actor.user_id)
    if f.symbol:  # ``ETH`` finds ETH/USDT and ETH/BTC; a whole pair finds that pair
        stmt = stmt.where(Trade.symbol.ilike(containing(f.symbol), escape="\\"))
    if f.bot_id:
        stmt = stmt.where(Trade.bot_id == f.bot_id)
    if f.side:
        stmt = stmt.where(Trade.side == f.side)
    if f.paper is not None:
        stmt = stmt.where(Trade.is_paper_trade.is_(f.paper))
    if f.status:
        stmt = stmt.where(Trade.status == f.status)
    if f.since:
        stmt = stmt.where(Trade.executed_at >= f.since)
    if f.until:
        stmt = stmt.where(Trade.executed_at < f.until)
    return stmt


def _cursor_value(sort: str, text: str) -> Any:
    try:
        if sort == "time":
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                raise ValueError
            return moment
        if sort in ("total", "pnl"):
            return Decimal(text)
        return text
    except (ValueError, InvalidOperation):
        raise InvalidInput(
            "That page cursor is not valid; start from the first page.", field="after"
        ) from None


def _encode(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


async def search(
    db: Database,
    actor: Actor,
    trade_filter: TradeFilter = TradeFilter(),
    *,
    sort: str = "time",
    descending: bool = True,
    limit: int = 100,
    after: str | None = None,
) -> Page[HistoryRow]:
    """One page of the filtered trades; ``next_cursor`` continues after its last row."""
    if sort not in SORTS:
        raise InvalidInput(f"Sort by one of {', '.join(SORTS)}.", field="sort")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    return await _page(db, actor, trade_filter.checked(), sort, descending, limit, after)


async def _page(
    db: Database,
    actor: Actor,
    f: TradeFilter,
    sort: str,
    descending: bool,
    limit: int,
    after: str | None,
) -> Page[HistoryRow]:
    key = SORTS[sort]()
    stmt = _where(
        select(Trade, Bot.name, key.label("sort_key")).outerjoin(Bot, Bot.id == Trade.bot_id),
        actor,
        f,
    )
    if after:
        value_text, sep, row_id = after.rpartition("|")
        if not sep or not row_id:
            raise InvalidInput(
                "That page cursor is not valid; start from the first page.", field="after"
            )
        value = _cursor_value(sort, value_text)
        bound = tuple_(key, Trade.id)
        stmt = stmt.where(
            bound < tuple_(value, row_id) if descending else bound > tuple_(value, row_id)
        )
    order = (key.desc(), Trade.id.desc()) if descending else (key.asc(), Trade.id.asc())
    stmt = stmt.order_by(*order).limit(limit)
    async with db.session() as session:
        rows = (await session.execute(stmt)).all()
    items = tuple(HistoryRow(trade_view(t), t.status, name) for t, name, _ in rows)
    next_cursor = None
    if len(rows) == limit:
        last, _, last_key = rows[-1]
        next_cursor = f"{_encode(last_key)}|{last.id}"
    return Page(items, next_cursor)


async def totals(
    db: Database,
    actor: Actor,
    trade_filter: TradeFilter = TradeFilter(),
) -> TradeTotals:
    f = trade_filter.checked()
    pnl = Trade.profit_loss
    stmt = _where(
        select(
            func.count(),
            func.count().filter(Trade.side == "BUY"),
            func.count().filter(Trade.side == "SELL"),
            func.coalesce(func.sum(Trade.total), ZERO),
            func.coalesce(func.sum(Trade.fee), ZERO),
            func.coalesce(func.sum(pnl), ZERO),
            func.count().filter(pnl > 0),
            func.count().filter(pnl < 0),
        ),
        actor,
        f,
    )
    async with db.session() as session:
        count, buys, sells, volume, fees, realized, wins, losses = (
            await session.execute(stmt)
        ).one()
    return TradeTotals(count, buys, sells, volume, fees, realized, wins, losses)


async def symbols(db: Database, actor: Actor) -> list[str]:
    """The symbols the user has traded (for the filter's choices)."""
    async with db.session() as session:
        rows = await session.scalars(
            select(Trade.symbol)
            .where(Trade.user_id == actor.user_id)
            .distinct()
            .order_by(Trade.symbol)
        )
        return list(rows)


def _csv_row(row: HistoryRow) -> list[str]:
    t = row.trade
    values: dict[str, Any] = {
        "executed_at": t.executed_at.isoformat(),
        "id": t.id,
        "symbol": t.symbol,
        "side": t.side,
        "type": t.type,
        "quantity": t.quantity,
        "price": t.price,
        "executed_price": t.executed_price,
        "fee": t.fee,
        "fee_currency": t.fee_currency,
        "total": t.total,
        "profit_loss": t.profit_loss,
        "status": row.status,
        "mode": "paper" if t.is_paper else "live",
        "bot": row.bot_name,
        "bot_id": t.bot_id,
        "order_id": t.order_id,
        "position_id": t.position_id,
    }
    return [_cell(values[c]) for c in CSV_COLUMNS]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return exact(value) if isinstance(value, Decimal) else str(value)


async def export_csv(
    db: Database,
    actor: Actor,
    trade_filter: TradeFilter = TradeFilter(),
    *,
    clock: Clock = SYSTEM_CLOCK,
    progress: Callable[[int, int], None] | None = None,
) -> ExportView:
    """Write the filtered trades (newest first, exact decimals) to a CSV file, 0600, in the
    user's export directory; recorded in ``data_exports`` (kept 7 days). ``progress(done,
    total)`` is called after every batch."""
    f = trade_filter.checked()
    now = clock.now()
    async with db.sessions.begin() as session:
        record = DataExport(
            user_id=actor.user_id, export_type="trades", status="processing", created_at=now
        )
        session.add(record)
        await session.flush()
        export_id = record.id
    path = export_dir(actor.user_id) / f"{now:%Y%m%dT%H%M%SZ}-trades-{export_id}.csv"
    try:
        total = (await totals(db, actor, f)).count
        await asyncio.to_thread(_prepare, path)
        tmp = path.with_suffix(".csv.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            done, after = 0, None
            if progress is not None:
                progress(0, total)
            while True:
                page = await _page(db, actor, f, "time", True, EXPORT_BATCH, after)
                writer.writerows(_csv_row(r) for r in page.items)
                done += len(page.items)
                if progress is not None:
                    progress(done, total)
                if page.next_cursor is None:
                    break
                after = page.next_cursor
        tmp.replace(path)  # readers never see half a file
    except BaseException:
        async with db.sessions.begin() as session:
            failed = await session.get(DataExport, export_id)
            if failed is not None:
                failed.status = "failed"
        raise
    async with db.sessions.begin() as session:
        row = await session.get(DataExport, export_id)
        assert row is not None
        row.status, row.file_url, row.expires_at = "completed", str(path), now + EXPORT_LIFETIME
        return ExportView(row.id, row.user_id, row.export_type, row.status, row.file_url,
                          row.expires_at, row.created_at)  # fmt: skip


def _prepare(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)


__all__ = [
    "HistoryRow",
    "TradeFilter",
    "TradeTotals",
    "csv_text",
    "export_csv",
    "search",
    "symbols",
    "totals",
    "trade_bots",
]


async def trade_bots(db: Database, actor: Actor) -> list[tuple[str, str]]:
    """(id, name) of every bot the user's trades can belong to, manual ones included."""
    async with db.session() as session:
        rows = await session.execute(
            select(Bot.id, Bot.name).where(Bot.user_id == actor.user_id).order_by(Bot.name, Bot.id)
        )
        return [(bot_id, name) for bot_id, name in rows.all()]


async def csv_text(
    db: Database, actor: Actor, trade_filter: TradeFilter = TradeFilter()
) -> AsyncIterator[str]:
    """The filtered trades as CSV text (header first, then a chunk per page, newest first):
    the same rows and columns as ``export_csv``, streamed instead of written to a file. The
    filter is checked and the first page read before anything is returned, so bad input fails
    while an error can still be answered."""
    f = trade_filter.checked()
    page = await _page(db, actor, f, "time", True, EXPORT_BATCH, None)

    def text(rows: Iterable[Iterable[str]]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue()

    async def chunks(page: Page[HistoryRow]) -> AsyncIterator[str]:
        yield text([CSV_COLUMNS])
        while True:
            yield text(_csv_row(r) for r in page.items)
            if page.next_cursor is None:
                return
            page = await _page(db, actor, f, "time", True, EXPORT_BATCH, page.next_cursor)

    return chunks(page)
