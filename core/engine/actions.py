"""What a cycle does when it does more than HOLD: each action runs inside the bot's cycle
transaction (``cycle.run_action``), reads what it needs again, and records what happened in the
cycle's ``Decided`` (the execution row) and the bot's ``engine_state``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.brokers.paper import PaperBroker
from core.brokers.types import OrderRequest, OrderStatus, OrderType, Side
from core.db.models.bots import BotExecution, PumpDetection
from core.db.models.notifications import NotificationPriority, NotificationType
from core.db.models.signals import Signal, SignalExecution
from core.db.models.trading import Order, Position
from core.engine.context import Parsed
from core.engine.exit_state import held
from core.engine.exits import effective_rules
from core.engine.ids import fast_id
from core.engine.orders import buy_quantity, submit
from core.engine.trades import (
    Tx,
    buy,
    day_start,
    free_cash,
    last_loss_at,
    lock_position,
    open_position,
    open_positions,
    realized_today,
    sell,
    sync_live,
)
from core.engine.venues import Venue, load_or_sync_pair
from core.errors import ServiceError
from core.events import Event, publish_in
from core.figures import amount, quote_of
from core.market.errors import InsufficientFunds
from core.market.hub import PriceHub
from core.market.types import Ticker
from core.notifications import notify
from core.strategies.arbitrage import ArbitrageBotConfig, Opportunity
from core.strategies.candles import Candles, ms_to_datetime, timeframe_seconds
from core.strategies.dca import DcaBotConfig, DcaPosition, dca_order
from core.strategies.grid import GridBotConfig, GridOrder, initial_orders, rearm
from core.strategies.pump_screener import Detection, PumpScreenerConfig
from core.strategies.risk import ExitReason, RiskSettings, entry_block, entry_budget
from core.strategies.signal import ExternalSignal, SignalBotConfig, screen_signal

ActionFn = Callable[[Tx], Awaitable[None]]


def _append(tx: Tx, text: str) -> None:
    tx.decided.reason = f"{tx.decided.reason} {text}".strip()


# -- entries and exits ----------------------------------------------------------------------


async def _entry_check(tx: Tx, rules: RiskSettings, wallet_paper: bool) -> str | None:
    """Why the risk settings forbid an entry now (remembering how long for), or None."""
    session, bot = tx.session, tx.bot
    last_loss = await last_loss_at(session, bot.id)
    realized = await realized_today(session, bot.id, tx.now)
    block = entry_block(
        rules,
        open_positions=await open_positions(session, bot.id, wallet_paper),
        realized_today=realized,
        last_loss_at=last_loss,
        now=tx.now,
    )
    if block is None:
        tx.state.pop("entry_blocked_until", None)
        tx.state.pop("entry_blocked_reason", None)
        return None
    until: datetime | None = None
    if rules.max_daily_loss is not None and -realized >= rules.max_daily_loss:
        until = day_start(tx.now) + timedelta(days=1)
    elif rules.cooldown_after_loss_minutes and last_loss is not None:
        until = last_loss + timedelta(minutes=rules.cooldown_after_loss_minutes)
    if until is not None and until > tx.now:
        tx.state["entry_blocked_until"] = until.isoformat()
        tx.state["entry_blocked_reason"] = block
    return block


async def _enter(
    tx: Tx,
    symbol: str,
    rules: RiskSettings,
    *,
    reason: str,
    budget_cap: Decimal | None = None,
    size: Callable[[Decimal], Awaitable[Decimal]] | None = None,
) -> bool:
    venue = await tx.venue()
    if await open_position(tx.session, venue.wallet.id, symbol) is not None:
        _append(tx, "Already holding: a BUY changes nothing.")
        return False
    block = await _entry_check(tx, rules, venue.is_paper)
    if block is not None:
        _append(tx, f"Not entered: {block}.")
        return False
    await sync_live(tx, venue)
    budget = entry_budget(rules, await free_cash(tx.session, venue.wallet))
    if budget_cap is not None:
        budget = min(budget, budget_cap)
    if size is not None:  # the strategy's position_size hook
        budget = await size(budget)
        if budget <= 0:
            _append(tx, "Not entered: the strategy's position size is 0.")
            return False
        _append(tx, f"Position size {budget.normalize():f} (the strategy's position_size).")
    bought = await buy(tx, symbol, budget, rules, reason=reason)
    if bought is None:
        _append(tx, "Not entered: the free cash buys less than the pair's minimum.")
        return False
    tx.decided.price = bought.price
    return True


async def _leave(
    tx: Tx,
    symbol: str,
    rules: RiskSettings,
    *,
    reason: str,
    exit_reason: ExitReason = ExitReason.SIGNAL,
) -> bool:
    venue = await tx.venue()
    position = await open_position(tx.session, venue.wallet.id, symbol)
    if position is None:
        _append(tx, "Nothing held to sell.")
        return False
    await lock_position(tx.session, position.id)
    await tx.session.refresh(position)
    if position.status != "open":
        _append(tx, "The position was closed meanwhile.")
        return False
    fill = await sell(tx, position, held(position), exit_reason, reason=reason, rules=rules)
    if fill is None:
        _append(tx, "What is held is below the pair's quantity step.")
        return False
    tx.decided.price = position.current_price
    return True


def enter(
    symbol: str,
    parsed: Parsed,
    candle_ms: int,
    size: Callable[[Decimal], Awaitable[Decimal]] | None = None,
) -> ActionFn:
    """Enter at this candle's close; ``size`` is the strategy's position_size hook, if any."""

    async def run(tx: Tx) -> None:
        tx.state["candle"] = candle_ms
        await _enter(tx, symbol, parsed.risk, reason=tx.decided.reason, size=size)

    return run


def leave(
    symbol: str, parsed: Parsed, candle_ms: int, exit_reason: ExitReason = ExitReason.SIGNAL
) -> ActionFn:
    async def run(tx: Tx) -> None:
        tx.state["candle"] = candle_ms
        await _leave(tx, symbol, parsed.risk, reason=tx.decided.reason, exit_reason=exit_reason)

    return run


# -- provider signals --------------------------------------------------------------------------


def provider(symbol: str, parsed: Parsed, candle_ms: int, window: Candles) -> ActionFn:
    """Every signal of the provider not yet processed by this bot gets one ``signal_executions``
    row: the last one that passes the filters in the candle that just closed is acted on
    (success, or failed with the order's error, or skipped with why), the others are skipped
    with the reason. The same screening as a backtest (``screen_signal`` at the candle's close)."""
    config: SignalBotConfig = parsed.config  # type: ignore[assignment]

    async def run(tx: Tx) -> None:
        session, bot = tx.session, tx.bot
        tx.state["candle"] = candle_ms
        opened = ms_to_datetime(candle_ms)
        closed = ms_to_datetime(candle_ms + timeframe_seconds(config.timeframe) * 1000)
        since = bot.started_at or closed - timedelta(days=1)
        rows = (
            await session.scalars(
                select(Signal)
                .where(
                    Signal.provider_id == config.provider_id,
                    Signal.created_at >= since,
                    Signal.created_at < closed,
                    ~exists().where(
                        SignalExecution.signal_id == Signal.id, SignalExecution.bot_id == bot.id
                    ),
                )
                .order_by(Signal.created_at, Signal.id)
                .limit(1000)
            )
        ).all()
        outcomes: dict[str, tuple[str, str, str | None]] = {}
        passing = []
        for signal in rows:
            if signal.symbol.upper() != config.symbol:
                outcomes[signal.id] = (
                    "skipped",
                    f"for {signal.symbol}; this bot trades {config.symbol}",
                    None,
                )
                continue
            if signal.created_at < opened:
                outcomes[signal.id] = (
                    "skipped",
                    "it arrived in an earlier candle, which closed before the bot could act on it",
                    None,
                )
                continue
            external = ExternalSignal(
                signal.symbol, signal.action, signal.confidence, signal.created_at, signal.reason
            )
            decision = screen_signal(config, external, closed)
            if isinstance(decision, str):
                outcomes[signal.id] = ("skipped", decision, None)
            else:
                passing.append((signal, decision))
        if passing:
            chosen, decision = passing[-1]
            for signal, _ in passing[:-1]:
                outcomes[signal.id] = ("skipped", "a later signal in the same candle decided", None)
            tx.decided.signal = decision.signal.value
            tx.decided.confidence = decision.confidence
            tx.decided.reason = f"Provider signal {decision.signal.value}: {decision.reason}."
            before = len(tx.traded)
            try:
                async with session.begin_nested():
                    if decision.signal.value == "BUY":
                        done = await _enter(
                            tx, config.symbol, parsed.risk, reason=tx.decided.reason
                        )
                    else:
                        done = await _leave(
                            tx, config.symbol, parsed.risk, reason=tx.decided.reason
                        )
            except ServiceError as exc:
                outcomes[chosen.id] = ("failed", str(exc), None)
                _append(tx, f"The order failed: {exc}")
            else:
                if done:
                    outcomes[chosen.id] = ("success", tx.decided.reason, tx.traded[before])
                else:
                    outcomes[chosen.id] = ("skipped", tx.decided.reason, None)
        elif rows:
            tx.decided.reason = f"{len(rows)} provider signal(s), none to act on."
        else:
            tx.decided.reason = "No new provider signal in the candle that closed."
        if outcomes:
            await session.execute(
                insert(SignalExecution)
                .values(
                    [
                        {
                            "id": fast_id(),
                            "signal_id": signal_id,
                            "bot_id": bot.id,
                            "status": status,
                            "reason": why[:1000],
                            "trade_id": trade_id,
                            "execution_id": tx.execution_id,
                            "created_at": tx.now,
                        }
                        for signal_id, (status, why, trade_id) in outcomes.items()
                    ]
                )
                .on_conflict_do_nothing(index_elements=["signal_id", "bot_id"])
            )
            await session.execute(
                update(Signal).where(Signal.id.in_(list(outcomes))).values(processed=True)
            )
        tx.decided.indicators = {
            "signals": len(rows),
            "acted": sum(1 for o in outcomes.values() if o[0] == "success"),
        }

    return run


# -- dca ---------------------------------------------------------------------------------------


def dca(config: DcaBotConfig, parsed: Parsed) -> ActionFn:
    async def run(tx: Tx) -> None:
        session = tx.session
        venue = await tx.venue()
        position = await open_position(session, venue.wallet.id, config.symbol)
        if position is not None:
            await lock_position(session, position.id)
            await session.refresh(position)
            if position.status != "open":
                position = None
        memo = tx.state.get("dca") or {}
        levels_done = (
            memo.get("levels_done", 0) if position and memo.get("position_id") == position.id else 0
        )
        current = (
            None
            if position is None
            else DcaPosition(
                position.entry_price,
                held(position),
                position.dca_count,
                position.last_dca_time or position.created_at,
                levels_done,
            )
        )
        ticker = await venue.hub.ticker(config.symbol)
        order = dca_order(config, current, ticker.last, tx.now)
        if order is None:
            tx.decided.signal = "HOLD"
            _append(tx, "(Nothing to do at the latest price.)")
            return
        tx.decided.reason = order.reason
        if order.side == "SELL":
            assert position is not None
            await sell(
                tx,
                position,
                held(position),
                ExitReason.TAKE_PROFIT,
                reason=order.reason,
                rules=parsed.risk,
            )
            tx.state.pop("dca", None)
            tx.decided.price = position.current_price
            return
        if current is None and await _entry_check(tx, parsed.risk, venue.is_paper) is not None:
            tx.decided.signal = "HOLD"
            _append(
                tx,
                f"Not entered: {tx.state.get('entry_blocked_reason') or 'the risk settings forbid it now'}.",
            )
            return
        assert order.quote_amount is not None
        await sync_live(tx, venue)
        budget = min(
            order.quote_amount, entry_budget(parsed.risk, await free_cash(session, venue.wallet))
        )
        bought = await buy(tx, config.symbol, budget, parsed.risk, reason=order.reason)
        if bought is None:
            tx.decided.signal = "HOLD"
            _append(tx, "Not bought: the free cash buys less than the pair's minimum.")
            return
        tx.decided.price = bought.price
        tx.state["dca"] = {
            "position_id": bought.position.id,
            "levels_done": levels_done + (1 if order.level is not None else 0),
        }

    return run


# -- grid ------------------------------------------------------------------------------------------


def _grid_request(tx: Tx, venue: Venue, pair_info, order: GridOrder) -> OrderRequest:
    side = Side.BUY if order.side == "BUY" else Side.SELL
    price = pair_info.round_price(order.price, ROUND_DOWN if side is Side.BUY else ROUND_UP)
    return OrderRequest(
        pair_info.symbol,
        side,
        OrderType.LIMIT,
        pair_info.round_quantity(order.quantity),
        price=price,
        client_order_id=tx.client_id(),
    )


async def _place_grid(
    tx: Tx, venue: Venue, config: GridBotConfig, order: GridOrder
) -> tuple[str, list[Any]] | None:
    pair = await venue.pair(tx.session, config.symbol)
    request = _grid_request(tx, venue, pair.info, order)
    if request.quantity < pair.info.min_quantity or request.quantity <= 0:
        return None
    async with tx.session.begin_nested():
        result = await submit(tx.session, tx.ctx.desk, venue, request)
    tx.traded.extend(f.trade_id for f in result.fills)
    entry = [order.side, order.level, str(request.price), str(request.quantity)]
    if result.status is OrderStatus.FILLED:  # marketable on arrival: re-arm at once
        return await _place_grid(tx, venue, config, rearm(config, _grid_order(entry)))
    return request.client_order_id, entry


def _grid_order(entry: list[Any]) -> GridOrder:
    side, level, price, quantity = entry
    return GridOrder(side, int(level), Decimal(price), Decimal(quantity))


def grid_arm(config: GridBotConfig) -> ActionFn:
    async def run(tx: Tx) -> None:
        venue = await tx.venue()
        ticker = await venue.hub.ticker(config.symbol)
        orders: dict[str, list[Any]] = {}
        short = False
        for order in initial_orders(config, ticker.last):
            try:
                placed = await _place_grid(tx, venue, config, order)
            except InsufficientFunds:
                short = True
                break
            if placed is not None:
                orders[placed[0]] = placed[1]
        tx.state["grid"] = {"orders": orders, "round_trips": 0}
        tx.decided.reason = (
            f"Grid armed: {len(orders)} buy order(s) resting below {ticker.last.normalize():f}."
        )
        if short:
            _append(tx, "The free cash ran out before every level had its order.")

    return run


def grid_sync(config: GridBotConfig, ticker: Ticker) -> ActionFn:
    async def run(tx: Tx) -> None:
        session = tx.session
        venue = await tx.venue()
        grid = tx.state.get("grid") or {"orders": {}, "round_trips": 0}
        orders: dict[str, list[Any]] = dict(grid["orders"])
        if venue.is_paper:
            assert isinstance(venue.broker, PaperBroker)
            await tx.ctx.desk.process_prices(
                session, venue.broker, {config.symbol: ticker}, wallet_ids=[venue.wallet.id]
            )
        else:
            sessions = async_sessionmaker(session.bind, expire_on_commit=False)
            for order_id in (
                await session.scalars(
                    select(Order.id).where(Order.client_order_id.in_(list(orders)))
                )
            ).all():
                await tx.ctx.desk.reconcile(sessions, venue.broker, order_id)  # type: ignore[arg-type]
        statuses = dict(
            (
                await session.execute(
                    select(Order.client_order_id, Order.status)
                    .where(Order.client_order_id.in_(list(orders)))
                    .execution_options(populate_existing=True)
                )
            ).all()
        )
        fills = []
        for cid in list(orders):
            status = statuses.get(cid)
            if status == OrderStatus.OPEN.value or status == OrderStatus.PENDING.value:
                continue
            entry = orders.pop(cid)
            if status != OrderStatus.FILLED.value:
                continue  # cancelled or failed: that level stays empty
            filled = _grid_order(entry)
            fills.append(filled)
            if filled.side == "SELL":
                grid["round_trips"] = grid.get("round_trips", 0) + 1
            try:
                placed = await _place_grid(tx, venue, config, rearm(config, filled))
            except InsufficientFunds as exc:
                _append(tx, f"Level {filled.level} not re-armed: {exc}")
                continue
            if placed is not None:
                orders[placed[0]] = placed[1]
        grid["orders"] = orders
        tx.state["grid"] = grid
        if fills:
            tx.decided.signal = "SELL" if fills[-1].side == "SELL" else "BUY"
            tx.decided.reason = (
                "Grid: "
                + "; ".join(
                    f"{f.side.lower()} at level {f.level} ({f.price.normalize():f}) filled, re-armed"
                    for f in fills
                )
                + "."
            )
        else:
            tx.decided.reason = "Grid: nothing filled at the latest price."
        tx.decided.indicators = {
            "buys": sum(1 for o in orders.values() if o[0] == "BUY"),
            "sells": sum(1 for o in orders.values() if o[0] == "SELL"),
            "round_trips": grid.get("round_trips", 0),
        }

    return run


# -- arbitrage ---------------------------------------------------------------------------------


def arbitrage(
    config: ArbitrageBotConfig, found: Opportunity, hub_a: PriceHub, hub_b: PriceHub
) -> ActionFn:
    """Both legs in the bot's simulation wallet, each priced by its own market; the run is
    recorded in ``bot_executions`` (completed with its P&L, or failed with why)."""

    async def run(tx: Tx) -> None:
        session = tx.session
        venue = await tx.venue()
        buy_hub = hub_a if found.buy_market == hub_a.name else hub_b
        sell_hub = hub_b if buy_hub is hub_a else hub_a
        record = BotExecution(
            bot_id=tx.bot.id, status="running", logs=[], trades_count=0, started_at=tx.now
        )
        session.add(record)
        await session.flush()
        logs: list[dict[str, Any]] = []
        try:
            async with session.begin_nested():
                legs = []
                for hub in (buy_hub, sell_hub):
                    leg = Venue(
                        venue.wallet,
                        PaperBroker(hub, clock=tx.ctx.clock, slippage=tx.ctx.markets.slippage),
                        hub,
                    )
                    leg._pairs[config.symbol] = await load_or_sync_pair(session, hub, config.symbol)
                    legs.append(leg)
                ticker = await buy_hub.ticker(config.symbol)
                quantity = await buy_quantity(
                    session, legs[0], config.symbol, config.trade_amount, ticker
                )
                if quantity <= 0:
                    raise InsufficientFunds("The trade amount buys less than the pair's minimum.")
                for side, leg in zip((Side.BUY, Side.SELL), legs, strict=True):
                    request = OrderRequest(
                        config.symbol,
                        side,
                        OrderType.MARKET,
                        quantity,
                        client_order_id=tx.client_id(),
                    )
                    result = await submit(session, tx.ctx.desk, leg, request)
                    tx.traded.extend(f.trade_id for f in result.fills)
                    logs.append(
                        {
                            "leg": side.value,
                            "market": leg.hub.name,
                            "quantity": str(quantity),
                            "order_id": result.order_id,
                        }
                    )
        except ServiceError as exc:
            record.status, record.logs, record.ended_at = (
                "failed",
                [*logs, {"error": str(exc)}],
                tx.now,
            )
            tx.decided.error = str(exc)
            _append(tx, f"Not traded: {exc}")
            tx.decided.signal = "HOLD"
            return
        position = await session.scalar(
            select(Position)
            .where(Position.wallet_id == venue.wallet.id, Position.symbol == config.symbol)
            .order_by(Position.closed_at.desc().nulls_last(), Position.created_at.desc())
            .limit(1)
        )
        profit = position.profit_loss if position is not None else None
        record.status, record.logs, record.profit_loss = "completed", logs, profit
        record.trades_count, record.ended_at = len(logs), tx.now
        if profit is not None:
            _append(tx, f"Net P&L {amount(profit, quote_of(config.symbol), sign=True)}.")
        await publish_in(
            session, Event("trade", tx.bot.user_id, {"bot_id": tx.bot.id, "arbitrage": record.id})
        )

    return run


# -- pump screener -----------------------------------------------------------------------------


def pump(
    config: PumpScreenerConfig, parsed: Parsed, detections: list[tuple[Detection, int]]
) -> ActionFn:
    async def run(tx: Tx) -> None:
        session, bot = tx.session, tx.bot
        venue = await tx.venue()
        seen = dict(tx.state.get("pump") or {})
        entered = []
        for found, last_ms in detections:
            seen[found.symbol] = last_ms
            ticker = await venue.hub.ticker(found.symbol)
            row = PumpDetection(
                bot_id=bot.id,
                user_id=bot.user_id,
                symbol=found.symbol,
                price_change=found.price_change,
                volume_change=found.volume_change,
                current_price=found.current_price,
                volume_24h=ticker.quote_volume_24h,
                confidence=found.confidence,
                detected_at=tx.now,
            )
            session.add(row)
            await session.flush()
            await notify(
                session,
                user_id=bot.user_id,
                type=NotificationType.TRADE_EXECUTED,
                title=f"Pump detected: {found.symbol} {found.price_change:+}% ({found.confidence})"[
                    :200
                ],
                message=(
                    f"{bot.name} saw {found.symbol} rise {found.price_change}% with volume up "
                    f"{found.volume_change}% over {config.window} {config.timeframe} candles; "
                    f"price {found.current_price.normalize():f}."
                ),
                priority=NotificationPriority.HIGH
                if found.confidence == "high"
                else NotificationPriority.NORMAL,
                metadata={"bot_id": bot.id, "kind": "PUMP_DETECTED", "detection_id": row.id},
                clock=tx.ctx.clock,
            )
            await publish_in(
                session,
                Event(
                    "pump",
                    bot.user_id,
                    {"bot_id": bot.id, "detection_id": row.id, "symbol": found.symbol},
                ),
            )
            if config.enter:
                rules = effective_rules(bot.type, bot.config or {}, parsed.risk)
                async with session.begin_nested():
                    if await _enter(
                        tx,
                        found.symbol,
                        rules,
                        reason=f"Pump entry: {found.symbol}.",
                        budget_cap=config.entry_amount,
                    ):
                        entered.append(found.symbol)
        tx.state["pump"] = seen
        tx.decided.signal = "BUY" if entered else "HOLD"
        if config.enter:
            _append(tx, f"Entered {', '.join(entered)}." if entered else "No entry made.")

    return run
