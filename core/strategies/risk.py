"""Risk settings (``bots.risk_settings``) and the exit rules, as pure functions.

The live engine (on every price update) and the backtester (on every candle) call the same
``evaluate``: given a position's exit state and a price bar, it returns the exits to make and
the new state. A live price tick is a bar whose open, high, low and close are that price. The
state maps one-to-one onto the ``positions`` row, so a restarted engine continues exactly where
it was. Within one bar the order is fixed (the backtester's semantics, see docs/backtest.md):

1. at the open: a stop the open gapped through fills at the open (stop first); then a target the
   open gapped through fills at the open; then the stale-trade rule is checked at the open;
2. during the bar: the stop, if the low reaches it, fills at the stop; otherwise targets the high
   reaches fill at their price;
3. after the bar: peak and lowest price are updated and the stop ratchets up (never down); a stop
   raised by this bar's high applies from the next bar on.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from core.strategies.config import ConfigModel, Percent, QuoteAmount

HUNDRED = Decimal(100)
ZERO = Decimal(0)

Gain = Annotated[Decimal, Field(gt=0, le=100000, max_digits=14, decimal_places=6)]


class ExitReason(StrEnum):
    SIGNAL = "SIGNAL"
    STOP_LOSS = "STOP_LOSS"
    TRAILING_STOP = "TRAILING_STOP"
    TAKE_PROFIT = "TAKE_PROFIT"
    TAKE_PROFIT_LEVEL = "TAKE_PROFIT_LEVEL"
    STALE_TRADE = "STALE_TRADE"
    CUSTOM_EXIT = "CUSTOM_EXIT"  # the strategy's custom_exit hook


class StopLossMode(StrEnum):
    FIXED = "fixed"
    ZONES = "zones"
    CUSTOM = "custom"


class ZoneLevel(ConfigModel):
    gain_percent: Gain = Field(description="Peak gain over the entry (%) where this zone starts.")
    keep_percent: Annotated[Decimal, Field(gt=0, lt=100)] = Field(
        description="Share of the peak gain the stop locks in while in this zone (%)."
    )


class TrailingLevel(ConfigModel):
    gain_percent: Gain = Field(description="When the peak gain over the entry reaches this (%)…")
    stop_percent: Annotated[Decimal, Field(gt=-100, lt=100000)] = Field(
        description="…the stop moves up to the entry plus this (%; negative means below entry)."
    )


class TakeProfitLevel(ConfigModel):
    gain_percent: Gain = Field(description="Sell when the price is this far over the entry (%).")
    sell_percent: Percent = Field(description="Share of the original quantity to sell here (%).")


class TrailingStop(ConfigModel):
    activation_percent: Annotated[Decimal, Field(ge=0, le=100000)] = Field(
        default=Decimal(0),
        description="Start trailing once the gain over the entry reaches this (%).",
    )
    distance_percent: Annotated[Decimal, Field(gt=0, lt=100)] = Field(
        description="Keep the stop this far below the highest price since entry (%)."
    )


class StaleTrade(ConfigModel):
    after_minutes: int = Field(ge=1, le=525600, description="Held at least this long (minutes)…")
    min_gain_percent: Annotated[Decimal, Field(ge=-100)] = Field(
        default=Decimal(-2), description="…with a gain (%) of at least this…"
    )
    max_gain_percent: Annotated[Decimal, Field(le=100000)] = Field(
        default=Decimal(2), description="…and at most this: sell, the trade is going nowhere."
    )

    @model_validator(mode="after")
    def _band(self):
        if self.min_gain_percent > self.max_gain_percent:
            raise ValueError(
                f"min_gain_percent ({self.min_gain_percent}) must not exceed "
                f"max_gain_percent ({self.max_gain_percent})"
            )
        return self


DEFAULT_ZONES = (
    ZoneLevel(gain_percent=Decimal(10), keep_percent=Decimal(50)),
    ZoneLevel(gain_percent=Decimal(25), keep_percent=Decimal(60)),
    ZoneLevel(gain_percent=Decimal(50), keep_percent=Decimal(70)),
    ZoneLevel(gain_percent=Decimal(100), keep_percent=Decimal(80)),
)


def _strictly_increasing(values: list[Decimal]) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


class RiskSettings(ConfigModel):
    """How a bot limits risk and when it leaves a position. Every rule is optional."""

    stop_loss_percent: Annotated[Decimal, Field(gt=0, lt=100)] | None = Field(
        default=None, description="Sell everything if the price falls this far below the entry (%)."
    )
    stop_loss_mode: StopLossMode = Field(
        default=StopLossMode.FIXED,
        description="fixed: the stop stays put; zones: it locks a share of the peak gain; "
        "custom: it steps up through your trailing levels. It never moves down.",
    )
    zones: list[ZoneLevel] = Field(
        default_factory=list,
        description="Zones for stop_loss_mode=zones (empty: 10%→keep 50%, 25%→60%, 50%→70%, "
        "100%→80%).",
    )
    trailing_levels: list[TrailingLevel] = Field(
        default_factory=list, description="Stop levels for stop_loss_mode=custom."
    )
    take_profit_percent: Gain | None = Field(
        default=None, description="Sell everything once the price is this far over the entry (%)."
    )
    take_profit_levels: list[TakeProfitLevel] = Field(
        default_factory=list, description="Sell a part at each level instead of all at once."
    )
    moon_bag_percent: Annotated[Decimal, Field(gt=0, lt=100)] | None = Field(
        default=None,
        description="Share of the quantity (%) the take-profit levels never sell; it leaves "
        "with the stop, a sell signal or the stale-trade rule.",
    )
    trailing_stop: TrailingStop | None = Field(
        default=None, description="A stop that follows the highest price since entry."
    )
    stale_trade: StaleTrade | None = Field(
        default=None, description="Leave trades that have gone nowhere for a long time."
    )
    max_position_size: QuoteAmount | None = Field(
        default=None, description="Spend at most this much quote currency on one position."
    )
    max_open_positions: int = Field(
        default=1, ge=1, le=1000, description="Open positions the bot may hold at once."
    )
    max_daily_loss: QuoteAmount | None = Field(
        default=None,
        description="Pause the bot once today's realised loss (UTC day) reaches this amount.",
    )
    cooldown_after_loss_minutes: int = Field(
        default=0, ge=0, le=525600, description="Wait this long after a losing trade (minutes)."
    )

    @model_validator(mode="after")
    def _consistent(self):
        if self.zones and self.stop_loss_mode is not StopLossMode.ZONES:
            raise ValueError("zones only apply with stop_loss_mode 'zones'")
        if self.trailing_levels and self.stop_loss_mode is not StopLossMode.CUSTOM:
            raise ValueError("trailing_levels only apply with stop_loss_mode 'custom'")
        if self.stop_loss_mode is StopLossMode.CUSTOM and not self.trailing_levels:
            raise ValueError("stop_loss_mode 'custom' needs at least one trailing level")
        if not _strictly_increasing([z.gain_percent for z in self.zones]):
            raise ValueError("zones must be in order of strictly increasing gain_percent")
        levels = self.trailing_levels
        if not _strictly_increasing([t.gain_percent for t in levels]):
            raise ValueError("trailing_levels must be in order of strictly increasing gain_percent")
        if not _strictly_increasing([t.stop_percent for t in levels]):
            raise ValueError("trailing_levels must have strictly increasing stop_percent")
        for level in levels:
            if level.stop_percent >= level.gain_percent:
                raise ValueError(
                    f"a trailing level's stop_percent ({level.stop_percent}) must be below its "
                    f"gain_percent ({level.gain_percent})"
                )
        if self.take_profit_percent is not None and self.take_profit_levels:
            raise ValueError("use take_profit_percent or take_profit_levels, not both")
        tps = self.take_profit_levels
        if not _strictly_increasing([t.gain_percent for t in tps]):
            raise ValueError(
                "take_profit_levels must be in order of strictly increasing gain_percent"
            )
        if self.moon_bag_percent is not None and not tps:
            raise ValueError("moon_bag_percent needs take_profit_levels")
        total = sum((t.sell_percent for t in tps), ZERO) + (self.moon_bag_percent or ZERO)
        if total > HUNDRED:
            raise ValueError(
                f"take_profit_levels sell {total - (self.moon_bag_percent or ZERO)}% and the moon "
                f"bag keeps {self.moon_bag_percent or 0}%: together more than 100%"
            )
        return self

    @property
    def effective_zones(self) -> tuple[ZoneLevel, ...]:
        return tuple(self.zones) or DEFAULT_ZONES

    @property
    def has_exit_rules(self) -> bool:
        return bool(
            self.stop_loss_percent is not None
            or self.stop_loss_mode is not StopLossMode.FIXED
            or self.take_profit_percent is not None
            or self.take_profit_levels
            or self.trailing_stop is not None
            or self.stale_trade is not None
        )


# -- position exit state ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExitState:
    """Everything the exit rules remember about an open position (all in ``positions``)."""

    entry_price: Decimal
    quantity: Decimal  # bought in total
    remaining: Decimal  # still held
    opened_at: datetime
    peak_price: Decimal
    lowest_price: Decimal
    stop_price: Decimal | None  # positions.stop_loss
    take_profit_levels_hit: int = 0
    moon_bag_quantity: Decimal = ZERO
    moon_bag_activated: bool = False
    last_stop_update: datetime | None = None
    last_take_profit_time: datetime | None = None

    def gain_percent(self, price: Decimal) -> Decimal:
        return (price / self.entry_price - 1) * HUNDRED

    def stop_percent(self) -> Decimal | None:
        """positions.current_stop_loss_percent: the stop relative to the entry (%)."""
        return None if self.stop_price is None else self.gain_percent(self.stop_price)


@dataclass(frozen=True, slots=True)
class Bar:
    """A price bar; a live tick is ``Bar.tick(time, price)``."""

    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal

    @classmethod
    def tick(cls, time: datetime, price: Decimal) -> Bar:
        return cls(time, price, price, price, price)


@dataclass(frozen=True, slots=True)
class ExitFill:
    quantity: Decimal
    price: Decimal
    reason: ExitReason
    closes: bool  # the position is fully closed by this fill


@dataclass(frozen=True, slots=True)
class ExitOutcome:
    state: ExitState
    fills: tuple[ExitFill, ...] = ()

    @property
    def closed(self) -> bool:
        return bool(self.fills) and self.fills[-1].closes


@dataclass(frozen=True, slots=True)
class QuietBand:
    """Bars inside the band change nothing: ``low > lower``, ``high < upper`` and (if set)
    ``time < deadline``. The engine can compare ticks against it without calling evaluate."""

    lower: Decimal | None
    upper: Decimal
    deadline: datetime | None


def initial_stop(rules: RiskSettings, entry_price: Decimal) -> Decimal | None:
    if rules.stop_loss_percent is None:
        return None
    return entry_price * (1 - rules.stop_loss_percent / HUNDRED)


def open_state(
    rules: RiskSettings, entry_price: Decimal, quantity: Decimal, opened_at: datetime
) -> ExitState:
    moon = quantity * rules.moon_bag_percent / HUNDRED if rules.moon_bag_percent else ZERO
    state = ExitState(
        entry_price=entry_price,
        quantity=quantity,
        remaining=quantity,
        opened_at=opened_at,
        peak_price=entry_price,
        lowest_price=entry_price,
        stop_price=initial_stop(rules, entry_price),
        moon_bag_quantity=moon,
    )
    # a trailing stop active from 0% already trails the entry price
    stop = ratcheted_stop(rules, state)
    return replace(state, stop_price=stop, last_stop_update=opened_at if stop is not None else None)


def add_to_position(state: ExitState, quantity: Decimal, price: Decimal) -> ExitState:
    """A further buy (DCA): the entry becomes the average of what is held."""
    held = state.remaining + quantity
    entry = (state.entry_price * state.remaining + price * quantity) / held
    return replace(state, entry_price=entry, quantity=state.quantity + quantity, remaining=held)


def take_profit_price(rules: RiskSettings, state: ExitState) -> Decimal | None:
    """positions.take_profit: the next price that sells something (None if no target is left)."""
    if rules.take_profit_percent is not None:
        return state.entry_price * (1 + rules.take_profit_percent / HUNDRED)
    levels = rules.take_profit_levels
    if state.take_profit_levels_hit < len(levels):
        level = levels[state.take_profit_levels_hit]
        return state.entry_price * (1 + level.gain_percent / HUNDRED)
    return None


def stop_reason(rules: RiskSettings, state: ExitState) -> ExitReason:
    """STOP_LOSS while the stop is the initial one, TRAILING_STOP once it has moved up."""
    first = initial_stop(rules, state.entry_price)
    return (
        ExitReason.STOP_LOSS
        if first is not None and state.stop_price == first
        else ExitReason.TRAILING_STOP
    )


def ratcheted_stop(rules: RiskSettings, state: ExitState) -> Decimal | None:
    """The stop implied by the peak so far; only ever the current stop or higher."""
    entry, peak = state.entry_price, state.peak_price
    peak_gain = (peak / entry - 1) * HUNDRED
    candidates = [state.stop_price] if state.stop_price is not None else []
    if rules.stop_loss_mode is StopLossMode.ZONES:
        zone = None
        for level in rules.effective_zones:
            if peak_gain >= level.gain_percent:
                zone = level
        if zone is not None:
            candidates.append(entry * (1 + peak_gain * zone.keep_percent / (HUNDRED * HUNDRED)))
    elif rules.stop_loss_mode is StopLossMode.CUSTOM:
        reached = [t for t in rules.trailing_levels if peak_gain >= t.gain_percent]
        if reached:
            candidates.append(entry * (1 + reached[-1].stop_percent / HUNDRED))
    trailing = rules.trailing_stop
    if trailing is not None and peak_gain >= trailing.activation_percent:
        candidates.append(peak * (1 - trailing.distance_percent / HUNDRED))
    return max(candidates) if candidates else None


def stale_deadline(rules: RiskSettings, state: ExitState) -> datetime | None:
    if rules.stale_trade is None:
        return None
    return state.opened_at + timedelta(minutes=rules.stale_trade.after_minutes)


def quiet_band(rules: RiskSettings, state: ExitState) -> QuietBand:
    lower = (
        state.lowest_price
        if state.stop_price is None
        else max(state.stop_price, state.lowest_price)
    )
    upper = state.peak_price
    target = take_profit_price(rules, state)
    if target is not None:
        upper = min(upper, target)
    return QuietBand(lower, upper, stale_deadline(rules, state))


def evaluate(rules: RiskSettings, state: ExitState, bar: Bar) -> ExitOutcome:
    """Apply every exit rule to one bar (see the module docstring for the order)."""
    fills: list[ExitFill] = []

    def full_exit(price: Decimal, reason: ExitReason) -> ExitOutcome:
        fills.append(ExitFill(state.remaining, price, reason, True))
        return ExitOutcome(replace(state, remaining=ZERO), tuple(fills))

    stop = state.stop_price
    # 1. at the open
    if stop is not None and bar.open <= stop:
        return full_exit(bar.open, stop_reason(rules, state))
    state = _targets(rules, state, bar, bar.open, fills)
    if state.remaining == 0:
        return ExitOutcome(state, tuple(fills))
    deadline = stale_deadline(rules, state)
    if deadline is not None and bar.time >= deadline:
        gain = state.gain_percent(bar.open)
        stale = rules.stale_trade
        assert stale is not None
        if stale.min_gain_percent <= gain <= stale.max_gain_percent:
            return full_exit(bar.open, ExitReason.STALE_TRADE)
    # 2. during the bar: the stop first
    if stop is not None and bar.low <= stop:
        return full_exit(stop, stop_reason(rules, state))
    state = _targets(rules, state, bar, bar.high, fills)
    if state.remaining == 0:
        return ExitOutcome(state, tuple(fills))
    # 3. after the bar
    if bar.high > state.peak_price:
        state = replace(state, peak_price=bar.high)
    if bar.low < state.lowest_price:
        state = replace(state, lowest_price=bar.low)
    new_stop = ratcheted_stop(rules, state)
    if new_stop != state.stop_price:
        state = replace(state, stop_price=new_stop, last_stop_update=bar.time)
    return ExitOutcome(state, tuple(fills))


def _targets(
    rules: RiskSettings, state: ExitState, bar: Bar, reach: Decimal, fills: list[ExitFill]
) -> ExitState:
    """Sell at every target ``reach`` (the open, or the bar's high) has got to."""
    if rules.take_profit_percent is not None:
        target = take_profit_price(rules, state)
        assert target is not None
        if reach >= target:
            fills.append(
                ExitFill(state.remaining, max(bar.open, target), ExitReason.TAKE_PROFIT, True)
            )
            return replace(state, remaining=ZERO, last_take_profit_time=bar.time)
        return state
    levels = rules.take_profit_levels
    while state.take_profit_levels_hit < len(levels):
        level = levels[state.take_profit_levels_hit]
        target = state.entry_price * (1 + level.gain_percent / HUNDRED)
        if reach < target:
            break
        sellable = state.remaining - (ZERO if state.moon_bag_activated else state.moon_bag_quantity)
        last = state.take_profit_levels_hit + 1 == len(levels)
        quantity = min(state.quantity * level.sell_percent / HUNDRED, sellable)
        if (
            last
            and state.moon_bag_quantity == 0
            and sum((t.sell_percent for t in levels), ZERO) == HUNDRED
        ):
            quantity = sellable  # the last level sells whatever is left, no dust
        state = replace(
            state,
            take_profit_levels_hit=state.take_profit_levels_hit + 1,
            last_take_profit_time=bar.time,
            moon_bag_activated=state.moon_bag_activated or (last and state.moon_bag_quantity > 0),
        )
        if quantity > 0:
            remaining = state.remaining - quantity
            fills.append(
                ExitFill(
                    quantity, max(bar.open, target), ExitReason.TAKE_PROFIT_LEVEL, remaining == 0
                )
            )
            state = replace(state, remaining=remaining)
            if remaining == 0:
                break
    return state


# -- entry checks ------------------------------------------------------------------------------


def entry_block(
    rules: RiskSettings,
    *,
    open_positions: int,
    realized_today: Decimal,
    last_loss_at: datetime | None,
    now: datetime,
) -> str | None:
    """Why a new entry is not allowed now, or None if it is."""
    if open_positions >= rules.max_open_positions:
        return (
            f"already {open_positions} open position(s), the maximum is {rules.max_open_positions}"
        )
    if rules.max_daily_loss is not None and -realized_today >= rules.max_daily_loss:
        return f"today's realised loss {-realized_today} reached the daily limit {rules.max_daily_loss}"
    if rules.cooldown_after_loss_minutes and last_loss_at is not None:
        until = last_loss_at + timedelta(minutes=rules.cooldown_after_loss_minutes)
        if now < until:
            return f"cooling down after a loss until {until:%Y-%m-%d %H:%M} UTC"
    return None


def entry_budget(rules: RiskSettings, free_cash: Decimal) -> Decimal:
    """Quote currency to spend on an entry: all free cash, capped by max_position_size."""
    if rules.max_position_size is not None:
        return min(free_cash, rules.max_position_size)
    return free_cash
