"""The ``ai`` bot: a classifier trained on the bot's own symbol history, walk-forward.

Time is cut into refit slots of ``refit_every`` candles (by timestamp, so live and backtest cut
the same way). The model that decides any candle of a slot is trained only on candles whose
label (the close ``horizon`` candles later) was known before the slot began, so it is never
trained on the candles it decides on. Features: RSI, MACD histogram (relative to price),
Bollinger %B, 1- and 5-candle returns, volume z-score.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from core.strategies import indicators as ind
from core.strategies.base import BUY, HOLD, SELL, Decision, SignalSeries, Strategy, hold
from core.strategies.candles import Candles, ms_to_datetime, timeframe_seconds
from core.strategies.config import ConfigModel, Symbol, Timeframe, symbol_field, timeframe_field
from core.strategies.learn import BoostedModel, LogisticModel

FEATURES = ("rsi", "macd_hist", "percent_b", "return_1", "return_5", "volume_z")
FEATURE_LABELS = {
    "rsi": "RSI",
    "macd_hist": "MACD histogram",
    "percent_b": "Bollinger %B",
    "return_1": "last return",
    "return_5": "5-candle return",
    "volume_z": "volume z-score",
}
# Candles before the first training row in a live window: RSI and MACD are recursive, and
# after 300 candles their seeding has faded below 1e-9, so a live window trains on the same
# feature values as the whole history.
FEATURE_WARMUP = 300


class AiBotConfig(ConfigModel):
    """A model trained on indicator features predicts whether the close rises."""

    symbol: Symbol = symbol_field()
    timeframe: Timeframe = timeframe_field()
    model: Literal["logistic", "gradient_boosting"] = Field(
        default="logistic", description="Logistic regression or gradient-boosted trees."
    )
    train_window: int = Field(
        default=500, ge=50, le=20000, description="Candles the model is trained on at each refit."
    )
    min_train: int = Field(
        default=200, ge=30, description="Fewest training candles before the bot trades at all."
    )
    refit_every: int = Field(
        default=24, ge=1, le=10000, description="Retrain the model every this many candles."
    )
    horizon: int = Field(
        default=4, ge=1, le=500, description="Predict the close this many candles ahead."
    )
    buy_threshold: float = Field(
        default=0.55, gt=0.5, lt=1, description="BUY when P(up) is at least this."
    )
    sell_threshold: float = Field(
        default=0.45, gt=0, lt=0.5, description="SELL when P(up) is at most this."
    )
    min_confidence: float = Field(
        default=0, ge=0, le=100, description="Ignore BUY/SELL below this confidence (0–100)."
    )
    seed: int = Field(default=42, ge=0, description="Random seed (gradient boosting row samples).")
    l2: float = Field(default=1.0, ge=0, le=1e6, description="L2 regularisation strength.")
    rounds: int = Field(default=60, ge=1, le=1000, description="Boosting rounds.")
    learning_rate: float = Field(default=0.1, gt=0, le=1, description="Boosting learning rate.")
    max_depth: int = Field(default=2, ge=1, le=6, description="Depth of each boosted tree.")

    @model_validator(mode="after")
    def _consistent(self):
        if self.min_train > self.train_window:
            raise ValueError(
                f"min_train ({self.min_train}) can't exceed train_window ({self.train_window})"
            )
        return self


def features(candles: Candles) -> np.ndarray:
    """The feature matrix, one row per candle (NaN during warm-up)."""
    close = candles.close
    with np.errstate(divide="ignore", invalid="ignore"):
        hist = ind.macd(close, 12, 26, 9)[2] / close * 100.0
    return np.column_stack(
        [
            ind.rsi(close, 14),
            hist,
            ind.percent_b(close, 20, 2.0),
            ind.returns(close, 1) * 100.0,
            ind.returns(close, 5) * 100.0,
            ind.zscore(candles.volume, 20),
        ]
    )


class AiStrategy(Strategy):
    name = "ai"

    def __init__(self, config: AiBotConfig) -> None:
        self.config = config
        self.slot_ms = config.refit_every * timeframe_seconds(config.timeframe) * 1000
        self._models: OrderedDict[tuple, object | None] = OrderedDict()

    @property
    def lookback(self) -> int:
        c = self.config
        return FEATURE_WARMUP + c.train_window + c.horizon + c.refit_every + 1

    # -- training ---------------------------------------------------------------------------
    def _training_rows(self, x: np.ndarray, close: np.ndarray, slot_start_index: int):
        """Rows whose features are complete and whose label was known before the slot."""
        last = slot_start_index - self.config.horizon  # label index last+h-1 < slot start
        if last <= 0:
            return None
        rows = np.arange(max(0, last - self.config.train_window), last)
        return rows[~np.isnan(x[rows]).any(axis=1)]

    def _model(self, x: np.ndarray, candles: Candles, slot_start_index: int):
        """The model for a slot, fitted once (cached by the exact training range)."""
        rows = self._training_rows(x, candles.close, slot_start_index)
        if rows is None or len(rows) < self.config.min_train:
            return None, 0 if rows is None else len(rows)
        key = (int(candles.ts[rows[0]]), int(candles.ts[rows[-1]]), len(rows))
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key], len(rows)
        y = (candles.close[rows + self.config.horizon] > candles.close[rows]).astype(np.float64)
        if y.min() == y.max():
            model: LogisticModel | BoostedModel | None = None  # one class only: nothing to learn
        elif self.config.model == "logistic":
            model = LogisticModel.fit(x[rows], y, l2=self.config.l2)
        else:
            c = self.config
            model = BoostedModel.fit(
                x[rows],
                y,
                rounds=c.rounds,
                learning_rate=c.learning_rate,
                max_depth=c.max_depth,
                seed=c.seed,
                l2=c.l2,
            )
        self._models[key] = model
        if len(self._models) > 64:
            self._models.popitem(last=False)
        return model, len(rows)

    # -- decisions --------------------------------------------------------------------------
    def _slot_bounds(self, ts: np.ndarray):
        slot = ts // self.slot_ms
        starts = np.flatnonzero(np.diff(slot, prepend=slot[0] - 1))
        return slot, starts

    def series(self, candles: Candles) -> SignalSeries:
        n = len(candles)
        x = features(candles)
        prob = np.full(n, np.nan)
        trained = np.zeros(n, dtype=np.int64)
        models: dict[int, object] = {}
        slot_index = np.zeros(n, dtype=np.int64)
        if n:
            _slot, starts = self._slot_bounds(candles.ts)
            ends = np.append(starts[1:], n)
            for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
                # the slot's first index in *this* history; a window that starts mid-slot
                # can't know the slot's training data, so its first partial slot holds
                model, count = self._model(x, candles, start) if start > 0 else (None, 0)
                slot_index[start:end] = k
                models[k] = model
                trained[start:end] = count
                if model is not None:
                    rows = np.arange(start, end)
                    ok = ~np.isnan(x[rows]).any(axis=1)
                    if ok.any():
                        prob[rows[ok]] = model.predict(x[rows[ok]])
        return self._series_from(candles, x, prob, trained, lambda i: models[int(slot_index[i])])

    def decide(self, window: Candles, signals: Sequence[Any] = ()) -> Decision:
        n = len(window)
        if n == 0:
            return hold("No candles yet.")
        x = features(window)
        _slot, starts = self._slot_bounds(window.ts)
        start = int(starts[-1])
        model, count = self._model(x, window, start) if start > 0 else (None, 0)
        prob = np.full(n, np.nan)
        if model is not None and not np.isnan(x[-1]).any():
            prob[-1] = model.predict(x[-1:])[0]
        trained = np.full(n, count, dtype=np.int64)
        return self._series_from(window, x, prob, trained, lambda _i: model).decision(n - 1)

    def _series_from(self, candles, x, prob, trained, model_at) -> SignalSeries:
        c = self.config
        action = np.full(len(prob), HOLD, dtype=np.int8)
        with np.errstate(invalid="ignore"):
            action[prob >= c.buy_threshold] = BUY
            action[prob <= c.sell_threshold] = SELL
        confidence = np.abs(prob - 0.5) * 200.0
        raw = action.copy()
        with np.errstate(invalid="ignore"):
            action[(action != HOLD) & ~(confidence >= c.min_confidence)] = HOLD
        shown = {name: x[:, j] for j, name in enumerate(FEATURES)}
        shown["p_up"] = prob

        def explain(i: int) -> str:
            if np.isnan(prob[i]):
                if np.isnan(x[i]).any():
                    return "Indicators are still warming up."
                if trained[i] < c.min_train:
                    return (
                        f"Not enough history to train: {trained[i]} of {c.min_train} candles "
                        "before this refit."
                    )
                return "The training window had only rising or only falling closes; no model."
            model = model_at(i)
            kind = "logistic regression" if c.model == "logistic" else "gradient boosting"
            until = ms_to_datetime(int(candles.ts[i]) // self.slot_ms * self.slot_ms)
            text = (
                f"{kind} trained on {trained[i]} candles before {until:%Y-%m-%d %H:%M} UTC gives "
                f"{prob[i] * 100:.1f}% that the close rises over the next {c.horizon} candles"
            )
            text += "; " + _drivers(model, x[i]) + "."
            verdict = {BUY: "BUY", SELL: "SELL", HOLD: "HOLD"}[int(raw[i])]
            if raw[i] != action[i]:
                verdict = f"HOLD (confidence {confidence[i]:.1f} below {c.min_confidence:g})"
            return f"{verdict}: {text}"

        return SignalSeries(action, confidence, shown, explain)


def _drivers(model, row: np.ndarray) -> str:
    """The two features that weigh most in this decision, with their values."""
    if isinstance(model, LogisticModel):
        push = model.contributions(row[None, :])[0]
        order = np.argsort(-np.abs(push), kind="stable")[:2]
        parts = [
            f"{FEATURE_LABELS[FEATURES[j]]} {row[j]:.2f} ({'up' if push[j] > 0 else 'down'})"
            for j in order
        ]
        return "driven by " + ", ".join(parts)
    order = np.argsort(-model.importance, kind="stable")[:2]
    return "key features " + ", ".join(f"{FEATURE_LABELS[FEATURES[j]]} {row[j]:.2f}" for j in order)
