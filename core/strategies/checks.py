"""``strategy check``: is a strategy class well formed, does it peek at the future, and is its
declared warm-up long enough for live decisions to match the backtest's.

* **Look-ahead** (as Freqtrade's lookahead-analysis): the signals are computed on the whole
  history, then again on histories cut short at many bars. A causal strategy gives the same
  entries, exits and indicator values on every prefix; one that reads a later candle (a
  ``shift(-1)``, a centred window, a normalisation over the whole array) changes them once the
  future is cut off. The first bar that differs is reported.
* **Warm-up**: live, the engine computes on a window of ``warmup() + 2`` candles only. At many
  bars the decision from such a window must equal the one from the whole history; where it
  doesn't, ``warmup()`` is too short (an EMA still seeding, a rolling window longer than said).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.strategies.api import CandleStrategy, Signals, problems_of
from core.strategies.candles import Candles
from core.strategies.technical import TechnicalStrategy

SAMPLES = 150
"""Cut points (look-ahead) and windows (warm-up) tried, spread over the history."""


@dataclass(frozen=True, slots=True)
class Divergence:
    bar: int  # index of the first candle whose result differed
    time_ms: int
    what: str  # "entry", "exit" or an indicator name
    detail: str


@dataclass(frozen=True, slots=True)
class CheckReport:
    name: str
    problems: list[str] = field(default_factory=list)
    lookahead: Divergence | None = None
    warmup: Divergence | None = None
    candles: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.lookahead is None and self.warmup is None


def check(cls: type[CandleStrategy], candles: Candles, params: dict | None = None) -> CheckReport:
    """Validate ``cls`` and run both checks with ``params`` (defaults) over ``candles``."""
    problems = problems_of(cls)
    if problems:
        return CheckReport(getattr(cls, "name", "?"), problems)
    strategy = cls.from_params(params or {})
    try:
        full = strategy.signals(candles)
        ahead = lookahead(strategy, candles, full)
        late = warmup(strategy, candles)
    except Exception as exc:  # the author's code: report it, don't crash the command
        return CheckReport(cls.name, [f"signals() raised {type(exc).__name__}: {exc}"])
    return CheckReport(cls.name, [], ahead, late, len(candles))


def _cuts(start: int, stop: int) -> list[int]:
    if stop - start <= SAMPLES:
        return list(range(start, stop))
    return sorted({int(k) for k in np.linspace(start, stop - 1, SAMPLES)})


def _first_difference(a: np.ndarray, b: np.ndarray) -> int | None:
    a = np.asarray(a)
    b = np.asarray(b)
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        same = np.isclose(a64, b64, rtol=1e-9, atol=0.0, equal_nan=True)
    else:
        same = a == b
    where = np.flatnonzero(~same)
    return int(where[0]) if len(where) else None


def lookahead(strategy: CandleStrategy, candles: Candles, full: Signals) -> Divergence | None:
    """The earliest bar whose signals change when later candles are removed (None: causal)."""
    n = len(candles)
    first: Divergence | None = None
    for k in _cuts(max(2, strategy.warmup() + 2), n):
        part = strategy.signals(candles[:k])
        arrays = [("entry", part.entry, full.entry), ("exit", part.exit, full.exit)]
        arrays += [
            (name, values, full.indicators[name])
            for name, values in part.indicators.items()
            if name in full.indicators
        ]
        for what, short, whole in arrays:
            i = _first_difference(short, np.asarray(whole)[:k])
            if i is not None and (first is None or i < first.bar):
                first = Divergence(
                    i,
                    int(candles.ts[i]),
                    what,
                    f"{what} at bar {i} is {_show(whole[i])} with the whole history but "
                    f"{_show(short[i])} when the history ends at bar {k - 1}",
                )
        if first is not None:
            break  # the shortest history that shows it
    return first


def warmup(strategy: CandleStrategy, candles: Candles) -> Divergence | None:
    """The first sampled bar where a live window of ``warmup() + 2`` candles decides otherwise
    than the whole history (None: the declared warm-up is enough)."""
    runner = TechnicalStrategy(strategy)
    window = runner.lookback
    whole = runner.series(candles).action
    for j in _cuts(window - 1, len(candles)):
        live = runner.series(candles[j - window + 1 : j + 1]).action[-1]
        if live != whole[j]:
            return Divergence(
                j,
                int(candles.ts[j]),
                "warmup",
                f"at bar {j} the decision from the last {window} candles (warmup() + 2) is "
                f"{_code(live)} but {_code(whole[j])} from the whole history: warmup() "
                f"returns {strategy.warmup()}, which is too short",
            )
    return None


def _show(value: object) -> str:
    return str(bool(value)) if isinstance(value, np.bool_ | bool) else f"{float(value):.10g}"  # type: ignore[arg-type]


def _code(action: int) -> str:
    return {1: "BUY", -1: "SELL", 0: "HOLD"}[int(action)]
