"""A position's exit state, to and from its ``positions`` row.

``core.strategies.risk.ExitState`` maps onto the row one-to-one (docs/backtest.md), so a
restarted engine continues exactly where it was: the stop that only ratchets up, the peak and
lowest price, the take-profit levels already sold, the moon bag.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from core.db.models.trading import Position
from core.strategies.risk import (
    ExitState,
    RiskSettings,
    StopLossMode,
    initial_stop,
    open_state,
    take_profit_price,
)

ZERO = Decimal(0)
_STORED = Decimal("1e-30")  # NUMERIC(65, 30)


def stored(value: Decimal) -> Decimal:
    """A computed level as the column keeps it (30 decimal places)."""
    return (
        value.quantize(_STORED, rounding=ROUND_HALF_EVEN)
        if isinstance(exponent := value.as_tuple().exponent, int) and exponent < -30
        else value
    )


def held(position: Position | Any) -> Decimal:
    return position.quantity if position.remaining_quantity is None else position.remaining_quantity


def exit_state(position: Position | Any, rules: RiskSettings) -> ExitState:
    """From a ``positions`` row (an ORM object or a plain row with the same columns)."""
    entry = position.entry_price
    stop = position.stop_loss if position.stop_loss and position.stop_loss > 0 else None
    first = initial_stop(rules, entry)
    if stop is not None and first is not None and stop == stored(first):
        stop = first  # the initial stop, as exact as the rules compute it (STOP_LOSS, not trailing)
    return ExitState(
        entry_price=entry,
        quantity=position.quantity,
        remaining=held(position),
        opened_at=position.created_at,
        peak_price=position.peak_price or entry,
        lowest_price=position.lowest_price or entry,
        stop_price=stop,
        take_profit_levels_hit=position.take_profit_levels_hit,
        moon_bag_quantity=position.moon_bag_quantity or ZERO,
        moon_bag_activated=position.moon_bag_activated,
        last_stop_update=position.last_stop_loss_update,
        last_take_profit_time=position.last_take_profit_time,
    )


def write_state(position: Position, rules: RiskSettings, state: ExitState) -> None:
    """Store the exit state (the held quantity is the ledger's, never the rules')."""
    position.stop_loss = stored(state.stop_price) if state.stop_price is not None else ZERO
    percent = state.stop_percent()
    position.current_stop_loss_percent = (
        None if percent is None else percent.quantize(Decimal("1e-8"))
    )
    target = take_profit_price(rules, state)
    position.take_profit = stored(target) if target is not None else ZERO
    position.peak_price = state.peak_price
    position.lowest_price = state.lowest_price
    position.take_profit_levels_hit = state.take_profit_levels_hit
    position.last_take_profit_time = state.last_take_profit_time
    position.last_stop_loss_update = state.last_stop_update
    position.moon_bag_activated = state.moon_bag_activated
    position.moon_bag_quantity = (
        stored(state.moon_bag_quantity) if state.moon_bag_quantity else None
    )


def start_state(position: Position, rules: RiskSettings) -> ExitState:
    """The exit state of a position just opened (at its entry price and time)."""
    state = open_state(rules, position.entry_price, held(position), position.created_at)
    write_state(position, rules, state)
    return state


def after_add(position: Position, rules: RiskSettings, previous: ExitState) -> ExitState:
    """A DCA buy changed the average entry and the quantity; the stop stays where it was."""
    state = replace(
        previous,
        entry_price=position.entry_price,
        quantity=position.quantity,
        remaining=held(position),
    )
    write_state(position, rules, state)
    return state


def can_ratchet(rules: RiskSettings) -> bool:
    """Whether a new high can move the stop (zones, custom levels or a trailing stop)."""
    return rules.stop_loss_mode is not StopLossMode.FIXED or rules.trailing_stop is not None
