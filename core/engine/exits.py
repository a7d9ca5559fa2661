"""Exit rules on every price update, not only once per cycle.

Every engine process keeps the open positions of running (and paused, and errored) bots in
memory with the price band inside which ``risk.evaluate`` provably changes nothing (the quiet
band: above the stop, below the next target and — when the stop can ratchet — the peak, before
the stale-trade deadline). Each price update is compared against the bands; only a position
whose band is left is handled, in a transaction of its own:

- a transaction-level advisory lock on the position (``trades.lock_position``) makes sure one
  process handles it; the others skip it;
- the row is read again, ``evaluate(rules, state, Bar.tick(now, price))`` decides, the exit
  fills are sold at market through the broker and the ledger, the new exit state is written in
  the position row, and a SELL execution (``<bot>-exit-<position>-<rule>-<level>``) records it.

The bands follow the database: every ``watch_refresh_seconds``, and at once after a trade of
this process, a reload reads the positions whose band may have changed since the last one
(another process opened, closed or moved them, their bot was stopped or its settings changed:
``exit_reload``); every ``watch_full_reload_seconds`` it reads them all.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.bots import Bot, BotWallet, Execution
from core.db.models.trading import Position
from core.engine.context import EngineContext
from core.engine.exit_line import ExitLine, broken
from core.engine.exit_reload import CHANGES, PROTECTED, WATCHED_TYPES
from core.engine.exit_state import can_ratchet, exit_state, write_state
from core.engine.trades import Decided, Tx, lock_position, sell
from core.engine.venues import PAPER_FEED
from core.errors import ServiceError
from core.market.types import Ticker
from core.strategies.risk import (
    Bar,
    ExitFill,
    ExitOutcome,
    RiskSettings,
    evaluate,
    quiet_band,
    stale_deadline,
    take_profit_price,
)

log = logging.getLogger(__name__)

YIELD_ROWS = 10
"""A reload takes the changed positions from the database this many at a time and hands the
event loop back after each chunk (a position costs up to ~0.1 ms): a streamed tick that comes
meanwhile waits for one chunk at most (2 ms on a quiet machine, ``bench/bench_engine.py``)."""


def effective_rules(bot_type: str, config: dict, risk: RiskSettings) -> RiskSettings:
    """A screener's entries carry its own tight stop."""
    if bot_type == "pump_screener" and config.get("enter") and config.get("stop_loss_percent"):
        return risk.model_copy(
            update={"stop_loss_percent": Decimal(str(config["stop_loss_percent"]))}
        )
    return risk


@dataclass(slots=True)
class Watched:
    position_id: str
    bot_id: str
    feed: str
    symbol: str
    rules: RiskSettings
    lower: Decimal | None
    upper: Decimal | None
    deadline: datetime | None
    paper: bool = True

    def breached(self, price: Decimal, now: datetime) -> bool:
        if self.lower is not None and price <= self.lower:
            return True
        if self.upper is not None and price >= self.upper:
            return True
        return self.deadline is not None and now >= self.deadline


@dataclass(frozen=True, slots=True)
class BatchTiming:
    """Where one batch's time went, as ``time.perf_counter()`` stamps: the prices came in, the
    batch started, its read came back, its write was ready (the rules and the ledger ran in
    memory), the write came back, it was committed."""

    positions: int
    arrived: float
    started: float
    read: float
    computed: float
    written: float
    committed: float
    cpu_ms: float
    """This thread's CPU time from the start to the commit."""

    def phases_ms(self) -> dict[str, float]:
        read = self.read or self.started  # (no read: nothing for the batch)
        computed = self.computed or read
        written = self.written or computed
        return {
            "to the batch": (self.started - self.arrived) * 1000,
            "BEGIN + read": (read - self.started) * 1000,
            "in memory": (computed - read) * 1000,
            "write": (written - computed) * 1000,
            "COMMIT": (self.committed - written) * 1000,
        }


@dataclass(frozen=True, slots=True)
class Reload:
    """One reload of the bands: its span (``time.perf_counter()``), the rows it read and its
    longest chunk (fetched and placed between two hand-backs of the event loop)."""

    began: float
    ended: float
    rows: int
    longest_chunk_ms: float


def watch(position: Any, feed: str, rules: RiskSettings) -> Watched | None:
    """A position's quiet band, or None when no exit rule applies to it."""
    lower, upper, deadline = band_of(position, rules)
    if lower is None and upper is None and deadline is None:
        return None
    return Watched(
        position.id,
        position.bot_id,
        feed,
        position.symbol,
        rules,
        lower,
        upper,
        deadline,
        bool(position.is_paper_trade),
    )


def band_of(
    position: Position, rules: RiskSettings
) -> tuple[Decimal | None, Decimal | None, datetime | None]:
    state = exit_state(position, rules)
    if not rules.has_exit_rules:
        return None, None, None
    band = quiet_band(rules, state)
    lower = state.stop_price  # below the lowest price nothing changes unless the stop is hit
    if can_ratchet(rules):
        upper: Decimal | None = band.upper  # a new peak may raise the stop
    else:
        upper = take_profit_price(rules, state)
    return lower, upper, stale_deadline(rules, state)


class ExitWatcher:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.line = ExitLine(ctx.db, held=ctx.settings.exits_only)
        """The batches' connection: held in an exits-only process (nothing else needs it)."""
        self.by_symbol: dict[tuple[str, str], dict[str, Watched]] = {}
        """(feed, symbol) -> position id -> its band."""
        self.by_bot: dict[str, list[Any]] = defaultdict(list)
        self.sources: dict[str, tuple[str | None, bool]] = {}
        """Each watched feed's exchange and whether it is a testnet (None: the simulated
        market), so a process that opens no venues (``exits_only``) can follow its prices."""
        self.versions: dict[str, int | None] = {}
        """Each loaded position's band version (``exit_reload``) as last read (None: to be
        read again)."""
        self._placed: dict[str, tuple[str, tuple[str, str] | None]] = {}
        """Each loaded position's bot and the ``by_symbol`` key its band is under (None: none)."""
        self._loading = asyncio.Lock()
        self.dirty = True
        self.loaded_at: datetime | None = None
        self.full_at: datetime | None = None
        """When every position was last read afresh (``watch_full_reload_seconds``)."""
        self.reloaded_rows = 0
        """Rows the last reload read: the positions that changed, not every one watched."""
        self.exits = 0
        self.batches = 0
        self.statements = 0
        """Statements the batched exits sent (``exit_batch.Batched.statements``)."""
        self.latencies_ms: deque[float] = deque(maxlen=10_000)
        self.batch_cpu_ms: deque[tuple[int, float]] = deque(maxlen=10_000)
        """(positions, this thread's CPU ms) of each batch, to its commit. In an exits-only
        process that is the batch's own cost (nothing else runs); elsewhere cycles add theirs."""
        self.timings: deque[BatchTiming] = deque(maxlen=10_000)
        """Each timed batch's phases (``handle_all`` with ``arrived``)."""
        self.reloads: deque[Reload] = deque(maxlen=10_000)

    @property
    def symbols(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for feed, symbol in self.by_symbol:
            out[feed].add(symbol)
        return out

    async def close(self) -> None:
        await self.line.close()

    async def warm(self) -> None:
        """Prepare the batches' statements on their connection before the first breach."""
        from core.engine.exit_batch import prepare

        async with self.line.session() as session:
            await prepare(session)

    def mark_dirty(self) -> None:
        self.dirty = True

    async def load(self, session: AsyncSession) -> int:
        """Bring the bands up to date with the open positions of running, paused and errored
        bots; returns how many positions are watched.

        Only what changed since the last load is read (``exit_reload``), every
        ``watch_full_reload_seconds`` everything; the rows come in chunks of ``YIELD_ROWS``
        through a server-side cursor, the event loop handed back after each."""
        async with self._loading:
            began = time.perf_counter()
            now = self.ctx.clock.now()
            full = (
                self.full_at is None
                or (now - self.full_at).total_seconds()
                >= self.ctx.settings.watch_full_reload_seconds
            )
            known = {} if full else dict(self.versions)
            rows = await session.stream(
                CHANGES, {"ids": list(known), "versions": list(known.values())}
            )
            seen: set[str] = set()
            read = 0
            longest = 0.0  # the longest chunk: fetched (and waited for) and placed
            resumed = time.perf_counter()
            async for chunk in rows.partitions(YIELD_ROWS):
                for row in chunk:
                    if row.id is None:
                        self._forget(row.known_id)  # closed, or its bot stopped or deleted
                        continue
                    read += 1
                    seen.add(row.id)
                    self._place(row)
                longest = max(longest, time.perf_counter() - resumed)
                await asyncio.sleep(0)
                resumed = time.perf_counter()
            if full:
                for position_id in set(self._placed) - seen:
                    self._forget(position_id)
                self.full_at = now
            self.reloaded_rows = read
            self.reloads.append(Reload(began, time.perf_counter(), read, longest * 1000))
            self.dirty = False
            self.loaded_at = now
            return sum(len(v) for v in self.by_symbol.values())

    def _place(self, row: Any) -> None:
        """A position read by ``load``: its band (if it has one) replaces the one held."""
        self._forget(row.id)
        self.by_bot[row.bot_id].append(row)
        self.versions[row.id] = row.version
        self._placed[row.id] = (row.bot_id, None)
        try:
            parsed = self.ctx.parsed(
                row.bot_id,
                row.bot_type,
                row.bot_updated_at,
                row.config,
                row.risk_settings,
                row.paper_market,
            )
        except ServiceError:
            return  # settings no longer valid: the bot's cycle reports it
        if row.wallet_type == "simulation":
            feed = row.paper_market or PAPER_FEED
            self.sources[feed] = (row.paper_market, False)
        else:
            feed = f"{row.exchange}-testnet" if row.is_testnet else str(row.exchange)
            self.sources[feed] = (row.exchange, bool(row.is_testnet))
        watched = watch(row, feed, effective_rules(row.bot_type, row.config or {}, parsed.risk))
        if watched is not None:
            self._watch(watched)

    def _watch(self, watched: Watched) -> None:
        key = (watched.feed, watched.symbol)
        self.by_symbol.setdefault(key, {})[watched.position_id] = watched
        self._placed[watched.position_id] = (watched.bot_id, key)

    def _unwatch(self, position_id: str) -> None:
        bot_id, key = self._placed.get(position_id, ("", None))
        if key is None:
            return
        self._placed[position_id] = (bot_id, None)
        bands = self.by_symbol.get(key)
        if bands is not None:
            bands.pop(position_id, None)
            if not bands:
                del self.by_symbol[key]  # a symbol no position is on any more isn't followed

    def _forget(self, position_id: str) -> None:
        """No band and no row of this position any more (the next reload reads it again)."""
        self._unwatch(position_id)
        self.versions.pop(position_id, None)
        placed = self._placed.pop(position_id, None)
        if placed is None:
            return
        held = [p for p in self.by_bot.get(placed[0], ()) if p.id != position_id]
        if held:
            self.by_bot[placed[0]] = held
        else:
            self.by_bot.pop(placed[0], None)

    def drop(self, watched: Watched) -> None:
        """Another process has it, or it is gone: unwatched until the next reload reads it
        again (a version of None never matches)."""
        self._unwatch(watched.position_id)
        if watched.position_id in self._placed:
            self.versions[watched.position_id] = None

    def update(self, watched: Watched, position: Position) -> None:
        """After an exit, this position's band (or its absence) without waiting for a reload
        (which reads the row again, if it is still open)."""
        self._forget(watched.position_id)
        held = [p for p in self.by_bot.get(watched.bot_id, ()) if p.id != watched.position_id]
        if position.status == "open":
            held.append(position)
            self._placed[watched.position_id] = (watched.bot_id, None)
            self.versions[watched.position_id] = None
            renewed = watch(position, watched.feed, watched.rules)
            if renewed is not None:
                self._watch(renewed)
        if held:
            self.by_bot[watched.bot_id] = held

    def breaches(
        self, feed: str, tickers: dict[str, Ticker], now: datetime
    ) -> list[tuple[Watched, Ticker]]:
        out = []
        for symbol, ticker in tickers.items():
            for watched in self.by_symbol.get((feed, symbol), {}).values():
                if watched.breached(ticker.last, now):
                    out.append((watched, ticker))
        return out

    async def handle(self, watched: Watched, ticker: Ticker, now: datetime) -> ExitOutcome | None:
        """Apply the exit rules to one position at one price, in a transaction of its own."""
        async with self.ctx.db.sessions() as session, session.begin():
            result = await apply_exit(self.ctx, session, watched.position_id, ticker.last, now)
        if result is None:
            self.drop(watched)  # another process has it, or it is gone: until the next reload
            return None
        outcome, position = result
        if outcome.fills:
            self.exits += 1
        self.update(watched, position)
        return outcome

    async def _batch(
        self, found: list[tuple[Watched, Ticker]], now: datetime, arrived: float | None
    ) -> list[tuple[Watched, Ticker]]:
        """Close the paper positions of ``found`` together; returns what is left for the
        one-by-one path."""
        from core.engine.exit_batch import close_together

        # In an exits-only process nothing else runs meanwhile: a garbage collection the batch's
        # allocations would start (a full one walks every object the process made since it
        # started) waits until the exits are committed instead of holding them up.
        deferred = self.ctx.settings.exits_only and gc.isenabled()
        if deferred:
            gc.disable()
        try:
            started = time.perf_counter()
            for attempt in (1, 2):
                try:
                    cpu = time.thread_time()
                    async with self.line.session() as session:
                        batch = await close_together(self.ctx, session, found, now)
                    break
                except ServiceError as exc:
                    log.warning("batched exits failed (%s): one by one instead", exc)
                    return found
                except DBAPIError as exc:
                    if attempt == 2 or not broken(exc):
                        raise
                    # The locks went with the connection: the batch starts over from the rows.
                    log.warning("batched exits: the database connection broke; again on a new one")
            done = time.perf_counter()
            cpu_ms = (time.thread_time() - cpu) * 1000
            self.batch_cpu_ms.append((len(found), cpu_ms))
            if arrived is not None:
                self.timings.append(
                    BatchTiming(
                        len(found),
                        arrived,
                        started,
                        batch.read_at,
                        batch.computed_at,
                        batch.written_at,
                        done,
                        cpu_ms,
                    )
                )
        finally:
            if deferred:
                gc.enable()
        self.batches += 1
        self.statements += batch.statements
        for watched in batch.gone:
            self.drop(watched)
        for watched, outcome, position in batch.done:
            if outcome.fills:
                self.exits += 1
                if arrived is not None:
                    self.latencies_ms.append((done - arrived) * 1000)
            self.update(watched, position)
        return batch.one_by_one

    async def handle_all(
        self,
        found: list[tuple[Watched, Ticker]],
        now: datetime,
        *,
        arrived: float | None = None,
        limit: int = 4,
    ) -> None:
        """Handle breached positions concurrently (bounded by the connection pool). With
        ``arrived`` (``time.perf_counter()`` when the prices came in), the time from the price
        update to each committed exit is kept in ``latencies_ms``."""
        if not found:
            return
        if self.ctx.settings.batch_exits:
            found = await self._batch(found, now, arrived)
            if not found:
                return
        gate = asyncio.Semaphore(limit)

        async def one(watched: Watched, ticker: Ticker) -> None:
            async with gate:
                try:
                    outcome = await self.handle(watched, ticker, now)
                except ServiceError as exc:
                    log.warning("exit of position %s failed: %s", watched.position_id, exc)
                    return
                if arrived is not None and outcome is not None and outcome.fills:
                    self.latencies_ms.append((time.perf_counter() - arrived) * 1000)

        await asyncio.gather(*(one(w, t) for w, t in found))


async def apply_exit(
    ctx: EngineContext, session: AsyncSession, position_id: str, price: Decimal, now: datetime
) -> tuple[ExitOutcome, Position] | None:
    """Evaluate and carry out the exit rules of one position at ``price``. None when another
    process is on it, or the position or its bot no longer qualifies."""
    if not await lock_position(session, position_id, wait=False):
        return None
    row = (
        await session.execute(
            select(Position, Bot)
            .join(Bot, Bot.id == Position.bot_id)
            .where(Position.id == position_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        return None
    position, bot = row
    if position.status != "open" or bot.status not in PROTECTED or bot.type not in WATCHED_TYPES:
        return None
    market = await session.scalar(
        select(BotWallet.paper_market).where(
            BotWallet.bot_id == bot.id, BotWallet.wallet_type == "simulation"
        )
    )
    parsed = ctx.parsed(bot.id, bot.type, bot.updated_at, bot.config, bot.risk_settings, market)
    rules = effective_rules(bot.type, bot.config or {}, parsed.risk)
    state = exit_state(position, rules)
    outcome = evaluate(rules, state, Bar.tick(now, price))
    if not outcome.fills:
        if outcome.state != state:
            write_state(position, rules, outcome.state)
            await session.flush()
        return outcome, position
    first = outcome.fills[0]
    key = exit_key(bot.id, position.id, first, state.take_profit_levels_hit)
    tx = Tx(ctx, session, bot, key, now, Decided(), {})
    sold: list[str] = []
    for fill in outcome.fills:
        why = exit_why(fill, price)
        applied = await sell(
            tx,
            position,
            position_quantity(position) if fill.closes else fill.quantity,
            fill.reason,
            reason=why,
            rules=rules,
        )
        if applied is not None:
            sold.append(f"{fill.reason.value} {fill.quantity.normalize():f}")
    if not sold:
        return None  # only dust below the pair's quantity step is left: nothing to sell
    if position.status == "open":  # the ledger updated the row's object in this session
        write_state(position, rules, outcome.state)
    session.add(exit_execution(bot.id, key, sold, position, price, first, now))
    await session.flush()
    return outcome, position


def exit_key(bot_id: str, position_id: str, first: ExitFill, levels_hit: int) -> str:
    """The exit's execution id (and the seed of its orders' client ids)."""
    return f"{bot_id}-exit-{position_id}-{first.reason.value}-{levels_hit}"


def exit_why(fill: ExitFill, price: Decimal) -> str:
    rule = fill.reason.value.replace("_", " ").lower()
    return f"{rule.capitalize()} at {fill.price.normalize():f} (price {price.normalize():f})."


def exit_execution(
    bot_id: str,
    key: str,
    sold: list[str],
    position: Position,
    price: Decimal,
    first: ExitFill,
    now: datetime,
) -> Execution:
    """The SELL execution that records an exit."""
    return Execution(
        bot_id=bot_id,
        execution_id=key,
        signal="SELL",
        confidence=Decimal(100),
        reason=f"Exit rule: {'; '.join(sold)} for {position.symbol} at {price.normalize():f}.",
        price=position.current_price,
        indicators={
            "position_id": position.id,
            "rule": first.reason.value,
            "trigger": str(first.price),
            "price": str(price),
        },
        status="success",
        error=None,
        timestamp=now,
    )


def position_quantity(position: Position) -> Decimal:
    return position.quantity if position.remaining_quantity is None else position.remaining_quantity
