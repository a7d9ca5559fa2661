"""The ``signal`` bot: acts on a built-in technical signal or on an external provider's signals.

External signals are screened here (minimum confidence, allowed symbols and actions, age) so the
engine only records the outcome in ``signal_executions`` (success / failed / skipped + reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from core.strategies.base import BUY, HOLD, SELL, Action, Decision, SignalSeries, Strategy
from core.strategies.candles import Candles, datetime_to_ms, ms_to_datetime, timeframe_seconds
from core.strategies.catalog import StrategyParams, get
from core.strategies.config import ConfigModel, Symbol, Timeframe, symbol_field, timeframe_field
from core.strategies.technical import TECHNICAL_SIGNALS, TechnicalStrategy


class SignalBotConfig(ConfigModel):
    """Trade on signals: a built-in technical rule, or a signal provider you subscribe to."""

    symbol: Symbol = symbol_field("The pair to trade (technical source), like BTC/USDT.")
    timeframe: Timeframe = timeframe_field()
    source: Literal["technical", "provider"] = Field(
        default="technical", description="technical: a built-in rule; provider: external signals."
    )
    indicator: StrategyParams = Field(
        default_factory=TECHNICAL_SIGNALS["sma_cross"],
        description="The strategy (built-in or installed) and its parameters (source technical).",
    )
    provider_id: str | None = Field(
        default=None, description="The signal provider to follow (source provider)."
    )
    min_confidence: float = Field(
        default=0, ge=0, le=100, description="Ignore signals below this confidence (0–100)."
    )
    allowed_symbols: list[Symbol] = Field(
        default_factory=list, description="Only act on these pairs (empty: any pair)."
    )
    allowed_actions: list[Literal["BUY", "SELL"]] = Field(
        default_factory=lambda: ["BUY", "SELL"],  # type: ignore[arg-type]  # pydantic's stub: list[str]
        description="Only act on these actions.",
    )
    max_signal_age_seconds: int = Field(
        default=300, ge=1, le=86400, description="Skip provider signals older than this."
    )

    @model_validator(mode="after")
    def _source(self):
        if self.source == "provider" and not self.provider_id:
            raise ValueError("source 'provider' needs a provider_id")
        if not self.allowed_actions:
            raise ValueError("allowed_actions can't be empty: the bot would never act")
        return self

    def strategy(self, history: Sequence[ExternalSignal] = ()) -> Strategy:
        if self.source == "provider":
            return ProviderStrategy(self, history)
        strategy = get(self.indicator.name)(self.indicator)  # type: ignore[attr-defined]
        return TechnicalStrategy(strategy, self.min_confidence)


@dataclass(frozen=True, slots=True)
class ExternalSignal:
    symbol: str
    action: str
    confidence: Decimal | None
    created_at: datetime
    reason: str | None = None


def screen_signal(config: SignalBotConfig, signal: ExternalSignal, now: datetime) -> Decision | str:
    """The decision to act on, or the reason to skip the signal (for signal_executions)."""
    action = signal.action.upper()
    if action not in {"BUY", "SELL"}:
        return f"action {signal.action!r} is not BUY or SELL"
    if action not in config.allowed_actions:
        return f"action {action} is not in this bot's allowed actions"
    symbol = signal.symbol.upper()
    if config.allowed_symbols and symbol not in config.allowed_symbols:
        return f"{symbol} is not in this bot's allowed symbols"
    confidence = signal.confidence if signal.confidence is not None else Decimal(100)
    if confidence < Decimal(str(config.min_confidence)):
        return f"confidence {confidence} is below the minimum {config.min_confidence:g}"
    if now - signal.created_at > timedelta(seconds=config.max_signal_age_seconds):
        return f"the signal is older than {config.max_signal_age_seconds} s"
    reason = signal.reason or "external signal"
    return Decision(
        Action(action), confidence.quantize(Decimal("0.01")), reason, {"symbol": symbol}
    )


class ProviderStrategy(Strategy):
    """A signal bot following a provider: a signal that arrives during a candle is screened at
    that candle's close and acted on like any other decision (the last one in a candle wins).
    Live, the engine passes the signals that arrived; a backtest passes the stored history."""

    name = "provider"

    def __init__(self, config: SignalBotConfig, history: Sequence[ExternalSignal] = ()) -> None:
        self.config = config
        self.history = sorted(history, key=lambda s: s.created_at)
        self.tf_ms = timeframe_seconds(config.timeframe) * 1000

    @property
    def lookback(self) -> int:
        return 1

    def series(
        self, candles: Candles, signals: Sequence[ExternalSignal] | None = None
    ) -> SignalSeries:
        n = len(candles)
        action = np.full(n, HOLD, dtype=np.int8)
        confidence = np.zeros(n)
        reasons: dict[int, str] = {}
        for signal in (
            self.history if signals is None else sorted(signals, key=lambda s: s.created_at)
        ):
            arrived = datetime_to_ms(signal.created_at)
            i = int(np.searchsorted(candles.ts, arrived, "right")) - 1
            if i < 0 or arrived >= int(candles.ts[i]) + self.tf_ms:
                continue  # before the first candle, or after the last one closed
            outcome = screen_signal(
                self.config, signal, ms_to_datetime(int(candles.ts[i]) + self.tf_ms)
            )
            if isinstance(outcome, str):
                reasons.setdefault(i, f"Skipped a {signal.action} signal: {outcome}.")
                continue
            action[i] = BUY if outcome.signal is Action.BUY else SELL
            confidence[i] = float(outcome.confidence)
            reasons[i] = f"Provider signal {outcome.signal}: {outcome.reason}"
        return SignalSeries(action, confidence, {}, lambda i: reasons.get(i, "No provider signal."))

    def decide(self, window: Candles, signals: Sequence[ExternalSignal] = ()) -> Decision:
        """The decision at the last candle's close from the signals that arrived during it."""
        if len(window) == 0:
            return Decision(Action.HOLD, Decimal("0.00"), "No candles yet.", {})
        return self.series(window[-1:], signals or None).decision(0)
