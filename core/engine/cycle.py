"""Running a batch of leased bots: plan every cycle, write the HOLDs in one statement, run the
cycles that act in transactions of their own, then check exits at the batch's prices.

Each cycle: market snapshot (shared per symbol) → strategy decision → risk checks → orders via
the broker → an ``executions`` row keyed ``<bot>-<slot>`` → positions and balances via the
ledger → events and notifications, committed together. A failed cycle is recorded as an
``error`` execution; ``max_failures`` in a row put the bot in the ``error`` state with the
message (BOT_ERROR). An exchange outage backs the affected bots off instead.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from core.db.models.bots import Bot
from core.db.models.notifications import NotificationPriority, NotificationType
from core.engine.context import EngineContext
from core.engine.decide import Feeds, Plan, load_feeds, plan
from core.engine.exits import ExitWatcher
from core.engine.failures import is_connection_error
from core.engine.ids import fast_id
from core.engine.leases import CycleRow, LeasedBot, finish_cycles, load_settings
from core.engine.trades import Decided, Tx
from core.errors import ServiceError
from core.events import Event, publish_in
from core.market.errors import ExchangeFailure
from core.notifications import notify

log = logging.getLogger(__name__)
REASON_LIMIT = 2000


@dataclass
class Failed:
    message: str
    outage: bool


@dataclass
class BatchStats:
    claimed: int = 0
    written: int = 0
    acted: int = 0
    errors: int = 0
    dropped: int = 0
    latencies_ms: list[float] = field(default_factory=list)


def _failed_plan(bot: LeasedBot, exc: BaseException) -> tuple[Plan, Failed]:
    if isinstance(exc, ExchangeFailure):
        failed = Failed(str(exc), True)
    elif isinstance(exc, ServiceError):
        failed = Failed(str(exc), False)
    else:
        log.exception("cycle of bot %s failed", bot.id, exc_info=exc)
        failed = Failed(f"Internal error: {type(exc).__name__}: {exc}", False)
    return Plan(Decided(reason=f"Cycle failed: {failed.message}")), failed


def _backoff(ctx: EngineContext, failures: int, now: datetime) -> datetime:
    s = ctx.settings
    delay = min(s.backoff_cap_seconds, s.backoff_seconds * 2 ** max(failures - 1, 0))
    return now + timedelta(seconds=delay)


def _row(
    ctx: EngineContext, bot: LeasedBot, decided: Decided, failed: Failed | None, now: datetime
) -> CycleRow:
    error_count = 0 if failed is None else bot.error_count + 1
    return CycleRow(
        bot_id=bot.id,
        execution_id=bot.execution_id,
        slot_at=bot.slot_at,
        at=now,
        signal=decided.signal,
        confidence=decided.confidence,
        reason=decided.reason[:REASON_LIMIT] or decided.signal,
        price=decided.price,
        indicators=decided.indicators_json
        or json.dumps(decided.indicators, separators=(",", ":"), default=str),
        status="success" if failed is None else "error",
        error=None if failed is None else failed.message[:REASON_LIMIT],
        error_count=error_count,
        backoff_until=_backoff(ctx, error_count, now)
        if failed is not None and failed.outage
        else None,
    )


async def run_batch(
    ctx: EngineContext,
    watcher: ExitWatcher,
    bots: list[LeasedBot],
    now: datetime,
    *,
    quiet: asyncio.Event | None = None,
) -> BatchStats:
    """``quiet``, when given, is waited for between bots and before each write: the exit
    watcher clears it while it closes positions, so exits never queue behind cycles."""
    stats = BatchStats(claimed=len(bots))
    started = time.perf_counter()
    if watcher.dirty:
        async with ctx.db.sessions() as session:
            await watcher.load(session)
    stale = []
    for bot in bots:
        known = ctx.known(bot.id, bot.updated_at)
        if known is None:
            stale.append(bot)
        else:
            bot.config, bot.risk_settings = known.raw_config, known.raw_risk
    feeds = Feeds({}, {})
    needs_feeds = any(not b.paper_trading or b.type == "arbitrage" for b in bots)
    if stale or needs_feeds:
        async with ctx.db.sessions() as session:
            await load_settings(session, stale)
            if needs_feeds:
                feeds = await load_feeds(session, bots)
    bulk: list[CycleRow] = []
    acting: list[tuple[LeasedBot, Plan, Failed | None]] = []
    for index, bot in enumerate(bots):
        if index % 10 == 9:
            await _yield(quiet)  # let price updates and exits through between bots
        failed = None
        try:
            planned = await plan(ctx, feeds, watcher.by_bot, bot, now)
        except Exception as exc:
            if is_connection_error(exc) and not isinstance(exc, ExchangeFailure):
                raise
            planned, failed = _failed_plan(bot, exc)
        goes_to_error = (
            failed is not None
            and not failed.outage
            and bot.error_count + 1 >= ctx.settings.max_failures
        )
        if planned.action is None and not goes_to_error:
            bulk.append(_row(ctx, bot, planned.decided, failed, now))
        else:
            acting.append((bot, planned, failed))
        if failed is not None:
            stats.errors += 1
    if bulk:
        await _yield(quiet)
        async with ctx.db.sessions() as session, session.begin():
            written = await finish_cycles(session, ctx.owner, bulk, fast_id)
        stats.written += len(written)
        stats.dropped += len(bulk) - len(written)
        done_ms = (time.perf_counter() - started) * 1000
        stats.latencies_ms.extend([done_ms] * len(written))
    for bot, planned, failed in acting:
        await _yield(quiet)
        outcome = await run_action(ctx, bot, planned, failed, now)
        if outcome:
            stats.written += 1
            stats.acted += 1
            stats.latencies_ms.append((time.perf_counter() - started) * 1000)
            watcher.mark_dirty()
        else:
            stats.dropped += 1
    return stats


async def _yield(quiet: asyncio.Event | None) -> None:
    await asyncio.sleep(0)
    if quiet is not None:
        await quiet.wait()


async def run_action(
    ctx: EngineContext, bot: LeasedBot, planned: Plan, failed: Failed | None, now: datetime
) -> bool:
    """One cycle in its own transaction, fenced by the lease; False if the lease was lost."""
    async with ctx.db.sessions() as session, session.begin():
        row = await session.scalar(
            select(Bot)
            .where(Bot.id == bot.id, Bot.lease_owner == ctx.owner)
            # NO KEY UPDATE: live orders are booked in the desk's own transactions, whose rows
            # point at this bot (their foreign keys take KEY SHARE locks on it)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        if row is None:
            return False
        before = copy.deepcopy(row.engine_state or {})
        tx = Tx(ctx, session, row, bot.execution_id, now, planned.decided, copy.deepcopy(before))
        if planned.action is not None and row.status == "active":
            try:
                async with session.begin_nested():
                    await planned.action(tx)
            except Exception as exc:
                if is_connection_error(exc) and not isinstance(exc, ExchangeFailure):
                    raise
                _plan, failed = _failed_plan(bot, exc)
                tx.state = copy.deepcopy(before)
                tx.decided.reason = f"{tx.decided.reason} Failed: {failed.message}".strip()
        elif planned.action is not None:
            tx.decided = Decided(
                reason=f"The bot was {row.status} before it could act.", price=tx.decided.price
            )
        tx.decided.indicators_json = None  # the action may have changed the indicators
        if failed is None and tx.decided.error is not None:
            failed = Failed(tx.decided.error, False)
        if tx.state != before:
            row.engine_state = tx.state
        cycle = _row(ctx, bot, tx.decided, failed, now)
        if (
            failed is not None
            and not failed.outage
            and cycle.error_count >= ctx.settings.max_failures
        ):
            await _error_state(tx, failed.message)
        await session.flush()
        written = await finish_cycles(session, ctx.owner, [cycle], fast_id)
        return bool(written)


async def _error_state(tx: Tx, message: str) -> None:
    bot = tx.bot
    if bot.status != "active":
        return
    bot.status = "error"
    bot.last_error = message[:REASON_LIMIT]
    bot.updated_at = tx.now
    await notify(
        tx.session,
        user_id=bot.user_id,
        type=NotificationType.BOT_ERROR,
        title=f"Bot error: {bot.name} stopped after {tx.ctx.settings.max_failures} failed cycles"[
            :200
        ],
        message=f"{bot.name} failed {tx.ctx.settings.max_failures} cycles in a row: {message}. "
        "Fix the cause and start it again.",
        priority=NotificationPriority.HIGH,
        metadata={"bot_id": bot.id, "error": message[:500]},
        clock=tx.ctx.clock,
    )
    await publish_in(
        tx.session,
        Event("bot", bot.user_id, {"bot_id": bot.id, "status": "error", "action": "error"}),
    )
