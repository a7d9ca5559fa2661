"""What each bot type decides in a cycle, from the shared market snapshot and in-memory state.

Planning reads no database row in the common case: prices come from the shared hubs, candles
from the shared cache, decisions are cached per closed candle, open positions come from the exit
watcher's copy. A plan that only records a HOLD is written in bulk with the other HOLDs; a plan
with an ``action`` (an order, a signal to record, a detection...) runs in a transaction of its
own, where everything is read again under locks before anything is done.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.bots import BotWallet
from core.db.models.trading import ExchangeConnection, Position
from core.engine import actions
from core.engine.context import EngineContext, Parsed
from core.engine.exit_state import held
from core.engine.leases import LeasedBot
from core.engine.strategy_guard import guarded
from core.engine.trades import Decided, Tx
from core.engine.venues import PAPER_FEED
from core.errors import Conflict
from core.figures import price, quantity, quote_of
from core.market.hub import PriceHub
from core.strategies.api import OpenTrade
from core.strategies.arbitrage import ArbitrageBotConfig, Quote, net_spread_percent, opportunity
from core.strategies.base import Action, Strategy
from core.strategies.candles import Candles, datetime_to_ms, timeframe_seconds
from core.strategies.dca import DcaBotConfig, DcaPosition, dca_order
from core.strategies.grid import GridBotConfig
from core.strategies.pump_screener import PumpScreenerConfig, detect
from core.strategies.registry import build_strategy
from core.strategies.risk import ExitReason
from core.strategies.signal import SignalBotConfig

ZERO = Decimal(0)
ActionFn = Callable[[Tx], Awaitable[None]]


@dataclass
class Plan:
    decided: Decided
    action: ActionFn | None = None


@dataclass(frozen=True, slots=True)
class Feeds:
    """Where a process finds each bot's prices: live bots and arbitrage markets by connection."""

    live: dict[str, tuple[str, str, bool]]  # bot id -> (exchange, feed name, testnet)
    connections: dict[str, tuple[str, str, bool]]  # connection id -> same


async def load_feeds(session: AsyncSession, bots: list[LeasedBot]) -> Feeds:
    live_ids = [b.id for b in bots if not b.paper_trading]
    conn_ids = {
        (b.config or {}).get(k)
        for b in bots
        if b.type == "arbitrage"
        for k in ("market_a", "market_b")
        if (b.config or {}).get(k) not in (None, "simulated")
    }
    live: dict[str, tuple[str, str, bool]] = {}
    connections: dict[str, tuple[str, str, bool]] = {}
    if live_ids:
        rows = await session.execute(
            select(BotWallet.bot_id, ExchangeConnection.exchange, ExchangeConnection.is_testnet)
            .join(ExchangeConnection, ExchangeConnection.id == BotWallet.exchange_connection_id)
            .where(BotWallet.bot_id.in_(live_ids), BotWallet.wallet_type == "live")
        )
        for bot_id, exchange, testnet in rows:
            live[bot_id] = (exchange, f"{exchange}-testnet" if testnet else exchange, testnet)
    if conn_ids:
        rows = await session.execute(
            select(
                ExchangeConnection.id, ExchangeConnection.exchange, ExchangeConnection.is_testnet
            ).where(ExchangeConnection.id.in_(conn_ids))
        )
        for conn_id, exchange, testnet in rows:
            connections[conn_id] = (
                exchange,
                f"{exchange}-testnet" if testnet else exchange,
                testnet,
            )
    return Feeds(live, connections)


def hub_for(ctx: EngineContext, feeds: Feeds, bot: LeasedBot) -> PriceHub:
    if bot.paper_trading:
        known = ctx.known(bot.id, bot.updated_at)
        return ctx.markets.paper_hub_of(known.paper_market if known else None)
    found = feeds.live.get(bot.id)
    if found is None:
        raise Conflict("The bot's exchange connection was removed; it can't trade live.")
    return ctx.markets.public_hub(found[0], found[1], found[2])


def _state(bot: LeasedBot) -> dict[str, Any]:
    return bot.engine_state or {}


def _positions(
    watched: dict[str, list[Position]], bot: LeasedBot, symbol: str | None = None
) -> list[Position]:
    return [
        p
        for p in watched.get(bot.id, ())
        if p.is_paper_trade == bot.paper_trading and (symbol is None or p.symbol == symbol)
    ]


def _blocked(bot: LeasedBot, now: datetime) -> str | None:
    until = _state(bot).get("entry_blocked_until")
    if until and datetime.fromisoformat(until) > now:
        return _state(bot).get("entry_blocked_reason") or "entries are paused"
    return None


async def plan(
    ctx: EngineContext,
    feeds: Feeds,
    watched: dict[str, list[Position]],
    bot: LeasedBot,
    now: datetime,
) -> Plan:
    parsed = ctx.parsed(
        bot.id, bot.type, bot.updated_at, bot.config, bot.risk_settings, bot.paper_market
    )
    planner = _PLANNERS[bot.type]
    return await planner(ctx, feeds, watched, bot, parsed, now)


# -- signal and ai ----------------------------------------------------------------------------


async def _candle_strategy(ctx, feeds, watched, bot, parsed: Parsed, now) -> Plan:
    config = parsed.config
    hub = hub_for(ctx, feeds, bot)
    ticker = await hub.ticker(config.symbol)  # type: ignore[attr-defined]
    if isinstance(config, SignalBotConfig) and config.source == "provider":
        return await _provider(ctx, hub, bot, parsed, ticker.last, now)
    strategy = parsed.extras.get("strategy")
    if strategy is None:
        strategy = parsed.extras["strategy"] = build_strategy(bot.type, config)
    window = await ctx.candles.window(hub, config.symbol, config.timeframe, strategy.lookback, now)  # type: ignore[attr-defined]
    if len(window) == 0:
        return Plan(Decided(reason="No closed candles yet.", price=ticker.last))
    last_ms = int(window.ts[-1])
    cached = parsed.extras.get("decision")
    if cached is None or cached[0] != last_ms:
        if getattr(strategy, "time_limited", False):
            decision = await guarded(
                strategy,
                strategy.name,
                lambda: strategy.decide(window),
                ctx.settings.strategy_timeout_seconds,
            )
        else:
            decision = strategy.decide(window)
        dumped = json.dumps(decision.indicators, separators=(",", ":"), default=str)
        cached = parsed.extras["decision"] = (last_ms, decision, dumped)
    _, decision, dumped = cached
    decided = Decided(
        reason=decision.reason,
        price=ticker.last,
        indicators=dict(decision.indicators),
        indicators_json=dumped,
    )
    if decision.signal is not Action.SELL and strategy.has_exit_hook:
        reason = await _custom_exit(ctx, watched, bot, parsed, strategy, window, last_ms)
        if reason is not None:
            decided.signal, decided.confidence, decided.reason = "SELL", Decimal(100), reason
            return Plan(
                decided,
                actions.leave(config.symbol, parsed, last_ms, ExitReason.CUSTOM_EXIT),  # type: ignore[attr-defined]
            )
    if decision.signal is Action.HOLD:
        return Plan(decided)
    if _state(bot).get("candle") == last_ms:
        decided.reason = f"{decision.reason} (already acted on at this candle's close)"
        return Plan(decided)
    decided.signal = decision.signal.value
    decided.confidence = decision.confidence
    if decision.signal is Action.BUY:
        blocked = _blocked(bot, now)
        if blocked:
            decided.reason = f"{decision.reason} Not entered: {blocked}."
            return Plan(decided)
        size = _sizer(ctx, strategy, window) if strategy.has_size_hook else None
        return Plan(decided, actions.enter(config.symbol, parsed, last_ms, size))  # type: ignore[attr-defined]
    if not _positions(watched, bot, config.symbol):  # type: ignore[attr-defined]
        decided.reason = f"{decision.reason} Nothing held to sell."
        decided.signal = "HOLD"
        return Plan(decided)
    return Plan(decided, actions.leave(config.symbol, parsed, last_ms))  # type: ignore[attr-defined]


async def _hook(ctx: EngineContext, strategy: Strategy, call: Callable[[], Any]) -> Any:
    """A per-bar hook, under the time limit of installed strategy code."""
    if getattr(strategy, "time_limited", False):
        return await guarded(strategy, strategy.name, call, ctx.settings.strategy_timeout_seconds)
    return call()


async def _custom_exit(
    ctx: EngineContext,
    watched: dict[str, list[Position]],
    bot: LeasedBot,
    parsed: Parsed,
    strategy: Strategy,
    window: Candles,
    last_ms: int,
) -> str | None:
    """The strategy's ``custom_exit`` on the held position at the close of ``window[-1]``
    (asked once per candle and position), as the backtester asks it."""
    symbol, timeframe = parsed.config.symbol, parsed.config.timeframe  # type: ignore[attr-defined]
    positions = _positions(watched, bot, symbol)
    if not positions or _state(bot).get("candle") == last_ms:
        return None  # nothing held, or already acted on at this candle's close
    position = positions[0]
    cached = parsed.extras.get("custom_exit")
    if cached is not None and cached[:2] == (last_ms, position.id):
        return cached[2]
    trade = OpenTrade.at(
        position.entry_price,
        datetime_to_ms(position.created_at),
        held(position),
        last_ms,
        timeframe_seconds(timeframe) * 1000,
    )
    reason = await _hook(ctx, strategy, lambda: strategy.exit_hook(window, trade))
    parsed.extras["custom_exit"] = (last_ms, position.id, reason)
    return reason


def _sizer(
    ctx: EngineContext, strategy: Strategy, window: Candles
) -> Callable[[Decimal], Awaitable[Decimal]]:
    """The strategy's ``position_size`` on the entry at the close of ``window[-1]``."""

    async def size(budget: Decimal) -> Decimal:
        amount: Decimal = await _hook(ctx, strategy, lambda: strategy.size_hook(window, budget))
        return amount

    return size


async def _provider(ctx, hub, bot, parsed: Parsed, price: Decimal, now) -> Plan:
    config = parsed.config
    assert isinstance(config, SignalBotConfig)  # only provider-following signal bots come here
    window = await ctx.candles.window(hub, config.symbol, config.timeframe, 1, now)
    decided = Decided(price=price)
    if len(window) == 0:
        decided.reason = "No closed candle yet."
        return Plan(decided)
    last_ms = int(window.ts[-1])
    if _state(bot).get("candle") == last_ms:
        decided.reason = (
            "Waiting for the current candle to close: provider signals are acted on at the close "
            "of the candle they arrive in."
        )
        return Plan(decided)
    decided.reason = "Reading the provider's signals of the candle that closed."
    return Plan(decided, actions.provider(config.symbol, parsed, last_ms, window))


# -- dca ---------------------------------------------------------------------------------------


def dca_position(bot: LeasedBot, position: Position | None) -> DcaPosition | None:
    if position is None:
        return None
    state = _state(bot).get("dca") or {}
    levels_done = state.get("levels_done", 0) if state.get("position_id") == position.id else 0
    return DcaPosition(
        average_entry=position.entry_price,
        quantity=held(position),
        buys=position.dca_count,
        last_buy_at=position.last_dca_time or position.created_at,
        levels_done=levels_done,
    )


async def _dca(ctx, feeds, watched, bot, parsed: Parsed, now) -> Plan:
    config: DcaBotConfig = parsed.config  # type: ignore[assignment]
    hub = hub_for(ctx, feeds, bot)
    ticker = await hub.ticker(config.symbol)
    held_now = _positions(watched, bot, config.symbol)
    position = dca_position(bot, held_now[0] if held_now else None)
    order = dca_order(config, position, ticker.last, now)
    decided = Decided(price=ticker.last)
    if position is not None:
        decided.indicators = {
            "average_entry": str(position.average_entry),
            "held": str(position.quantity),
            "buys": position.buys,
            "levels_done": position.levels_done,
        }
    if order is None:
        if position is None:
            decided.reason = "DCA: nothing held and nothing to buy."
        else:
            target = position.average_entry * (1 + config.take_profit_percent / 100)
            quote = quote_of(config.symbol)
            decided.reason = (
                f"DCA: holding {quantity(position.quantity)} at an average "
                f"{price(position.average_entry, quote)}; take-profit at {price(target, quote)}."
            )
        return Plan(decided)
    decided.signal = order.side
    decided.reason = order.reason
    if order.side == "BUY" and position is None:
        blocked = _blocked(bot, now)
        if blocked:
            decided.reason = f"{order.reason}; not entered: {blocked}."
            decided.signal = "HOLD"
            return Plan(decided)
    return Plan(decided, actions.dca(config, parsed))


# -- grid ----------------------------------------------------------------------------------------


async def _grid(ctx, feeds, watched, bot, parsed: Parsed, now) -> Plan:
    config: GridBotConfig = parsed.config  # type: ignore[assignment]
    hub = hub_for(ctx, feeds, bot)
    ticker = await hub.ticker(config.symbol)
    grid = _state(bot).get("grid")
    decided = Decided(price=ticker.last)
    if not grid:
        decided.reason = (
            f"Arming the grid: buy orders on the levels below {ticker.last.normalize():f} between "
            f"{config.lower_price.normalize():f} and {config.upper_price.normalize():f}."
        )
        return Plan(decided, actions.grid_arm(config))
    orders = grid.get("orders", {})
    crossed = [
        cid
        for cid, (side, _level, price, _qty) in orders.items()
        if (side == "BUY" and ticker.ask <= Decimal(price))
        or (side == "SELL" and ticker.bid >= Decimal(price))
    ]
    buys = sum(1 for o in orders.values() if o[0] == "BUY")
    decided.indicators = {
        "buys": buys,
        "sells": len(orders) - buys,
        "round_trips": grid.get("round_trips", 0),
    }
    if not crossed:
        decided.reason = (
            f"Grid: {buys} buy and {len(orders) - buys} sell orders resting; price "
            f"{ticker.last.normalize():f}."
        )
        return Plan(decided)
    decided.reason = f"Grid: the price crossed {len(crossed)} resting order(s)."
    return Plan(decided, actions.grid_sync(config, ticker))


# -- arbitrage ---------------------------------------------------------------------------------


def market_hub(
    ctx: EngineContext, feeds: Feeds, config: ArbitrageBotConfig, which: str
) -> PriceHub:
    name = config.market_a if which == "a" else config.market_b
    if name == "simulated":
        if which == "b" and config.market_a == "simulated":
            return ctx.markets.offset_hub(
                config.simulated_offset_percent, config.simulated_spread_percent
            )
        return ctx.markets.paper_hub()
    found = feeds.connections.get(name)
    if found is None:
        raise Conflict(f"The exchange connection {name!r} of this arbitrage bot was removed.")
    return ctx.markets.public_hub(*found)


async def _fee(ctx: EngineContext, hub: PriceHub, symbol: str) -> Decimal:
    """The market's taker fee for the symbol (its pairs listed once per process)."""
    fees = ctx.fees.get(hub.name)
    if fees is None:
        fees = ctx.fees[hub.name] = {m.symbol: m.taker_fee for m in await hub.feed.markets()}
    return fees.get(symbol, Decimal("0.001"))


async def _arbitrage(ctx, feeds, watched, bot, parsed: Parsed, now) -> Plan:
    config: ArbitrageBotConfig = parsed.config  # type: ignore[assignment]
    hub_a, hub_b = market_hub(ctx, feeds, config, "a"), market_hub(ctx, feeds, config, "b")
    ta, tb = await hub_a.ticker(config.symbol), await hub_b.ticker(config.symbol)
    qa = Quote(hub_a.name, ta.bid, ta.ask, await _fee(ctx, hub_a, config.symbol))
    qb = Quote(hub_b.name, tb.bid, tb.ask, await _fee(ctx, hub_b, config.symbol))
    spreads = {"a_to_b": net_spread_percent(qa, qb), "b_to_a": net_spread_percent(qb, qa)}
    decided = Decided(
        price=ta.last,
        indicators={k: str(v.quantize(Decimal("0.0001"))) for k, v in spreads.items()},
    )
    found = opportunity(config, qa, qb)
    if found is None:
        best = max(spreads.values()).quantize(Decimal("0.0001"))
        decided.reason = (
            f"Best net spread {best}% does not beat the threshold {config.threshold_percent}%."
        )
        return Plan(decided)
    decided.signal = "BUY"
    decided.confidence = Decimal(100)
    decided.reason = (
        f"Buy on {found.buy_market} at {found.buy_price.normalize():f}, sell on "
        f"{found.sell_market} at {found.sell_price.normalize():f}: net spread "
        f"{found.net_spread_percent.quantize(Decimal('0.0001'))}%."
    )
    return Plan(decided, actions.arbitrage(config, found, hub_a, hub_b))


# -- pump screener -----------------------------------------------------------------------------


async def _pump(ctx, feeds, watched, bot, parsed: Parsed, now) -> Plan:
    config: PumpScreenerConfig = parsed.config  # type: ignore[assignment]
    hub = hub_for(ctx, feeds, bot)
    seen = _state(bot).get("pump") or {}
    detections = []
    strongest: tuple[Decimal, str] | None = None
    for symbol in config.symbols:
        window = await ctx.candles.window(hub, symbol, config.timeframe, 2 * config.window + 1, now)
        if len(window) == 0:
            continue
        found = detect(config, symbol, window)
        last_ms = int(window.ts[-1])
        if len(window) > config.window:
            change = (
                Decimal(str(window.close[-1])) / Decimal(str(window.close[-1 - config.window])) - 1
            ) * 100
            if strongest is None or change > strongest[0]:
                strongest = (change.quantize(Decimal("0.01")), symbol)
        if found is not None and seen.get(symbol) != last_ms:
            detections.append((found, last_ms))
    price = (await hub.ticker(config.symbols[0])).last
    decided = Decided(price=price)
    if strongest is not None:
        decided.indicators = {
            "strongest_symbol": strongest[1],
            "strongest_change_pct": str(strongest[0]),
        }
    if not detections:
        decided.reason = (
            f"Scanned {len(config.symbols)} pair(s): no price and volume surge over the thresholds."
        )
        return Plan(decided)
    decided.reason = "Surge: " + "; ".join(
        f"{d.symbol} {d.price_change:+}% price, {d.volume_change:+}% volume ({d.confidence})"
        for d, _ in detections
    )
    decided.signal = "BUY" if config.enter else "HOLD"
    return Plan(decided, actions.pump(config, parsed, detections))


_PLANNERS = {
    "signal": _candle_strategy,
    "ai": _candle_strategy,
    "dca": _dca,
    "grid": _grid,
    "arbitrage": _arbitrage,
    "pump_screener": _pump,
}

__all__ = ["PAPER_FEED", "Feeds", "Plan", "hub_for", "load_feeds", "plan"]
