"""``strategy check``: is a strategy class well formed, does it peek at the future, and is its
declared warm-up long enough for live decisions to match the backtest's.

* **Look-ahead** (as Freqtrade's lookahead-analysis): the signals are computed on the whole
  history, then again on histories cut short at many bars. A causal strategy gives the same
  entries, exits and indicator values on every prefix; one that reads a later candle (a
  ``shift(-1)``, a centred window, a normalisation over the whole array) changes them once the
  future is cut off. The first bar that differs is reported. The per-bar hooks
  (``custom_exit``, ``position_size``) are asked the same question: at each cut, their answer
  after ``signals`` saw the whole history (as in a backtest) must equal their answer when the
  history ends there (as live); a hook that reads a later candle (kept from ``signals``, or
  through the window's arrays) answers differently, and the first such bar is reported.
* **Warm-up**: live, the engine computes on a window of ``warmup() + 2`` candles only. At many
  bars the decision from such a window must equal the one from the whole history; where it
  doesn't, ``warmup()`` is too short (an EMA still seeding, a rolling window longer than said).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from core.strategies.api import (
    CandleStrategy,
    OpenTrade,
    Signals,
    entry_amount,
    exit_reason,
    problems_of,
)
from core.strategies.candles import Candles
from core.strategies.technical import TechnicalStrategy

SAMPLES = 150
"""Cut points (look-ahead) and windows (warm-up) tried, spread over the history."""
BUDGET = Decimal(1000)
"""What ``position_size`` is offered at each cut."""
HELD_BARS = 3
"""``custom_exit`` is asked about a position bought this many candles before each cut."""


@dataclass(frozen=True, slots=True)
class Divergence:
    bar: int  # index of the first candle whose result differed
    time_ms: int
    what: str  # "entry", "exit", an indicator name, or a hook ("custom_exit", "position_size")
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
        peeked = hooks_lookahead(cls, candles, params or {})
    except HookFailed as exc:
        return CheckReport(cls.name, [str(exc)])
    except Exception as exc:  # the author's code: report it, don't crash the command
        return CheckReport(cls.name, [f"signals() raised {type(exc).__name__}: {exc}"])
    if peeked is not None and (ahead is None or peeked.bar < ahead.bar):
        ahead = peeked
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


class HookFailed(Exception):
    """A hook raised (or answered malformed) with the history it is given in a backtest."""


Answer = tuple[str, object]  # ("ok", the normalised answer) or ("raised", "ValueError: …")


def _ask(hook: Callable[[], object]) -> Answer:
    try:
        return "ok", hook()
    except Exception as exc:  # the author's code: its failure is an answer to compare
        return "raised", f"{type(exc).__name__}: {exc}"


def _hook_questions(
    strategy: CandleStrategy, window: Candles, entry: int, tf_ms: int
) -> dict[str, Callable[[], object]]:
    """Each hook the class defines, asked at the close of ``window[-1]`` (answers normalised
    as the backtester and the engine read them)."""
    hooks = type(strategy).hooks()
    questions: dict[str, Callable[[], object]] = {}
    if "custom_exit" in hooks:
        price = Decimal(repr(float(window.open[entry])))
        trade = OpenTrade.at(price, int(window.ts[entry]), Decimal(1), int(window.ts[-1]), tf_ms)
        questions["custom_exit"] = lambda: exit_reason(
            strategy.name, strategy.custom_exit(window, trade)
        )
    if "position_size" in hooks:
        questions["position_size"] = lambda: entry_amount(
            strategy.position_size(window, BUDGET), BUDGET
        )
    return questions


def hooks_lookahead(cls: type[CandleStrategy], candles: Candles, params: dict) -> Divergence | None:
    """The earliest cut where a per-bar hook answers otherwise with the whole history behind
    it than with the history ending at that bar (None: causal, or no hooks). A backtest runs
    ``signals`` once on the whole history, then each hook on the candles up to each close;
    live, ``signals`` and the hooks see only the candles so far: here a copy of them, so the
    hook can't reach later candles through the arrays either. HookFailed when a hook raises
    (or answers malformed) at a bar with the whole history, as a backtest would see it."""
    if not cls.hooks() or len(candles) < 2:
        return None
    backtest, live = cls.from_params(params), cls.from_params(params)
    backtest.signals(candles)
    tf_ms = int(np.median(np.diff(candles.ts)))
    for k in _cuts(max(2, backtest.warmup() + 2), len(candles)):
        j, entry = k - 1, max(0, k - 1 - HELD_BARS)
        alone = _copy(candles[:k])
        live.signals(alone)
        asked = _hook_questions(backtest, candles[:k], entry, tf_ms)
        answered = _hook_questions(live, alone, entry, tf_ms)
        for name, question in asked.items():
            whole, short = _ask(question), _ask(answered[name])
            if whole == short and whole[0] == "raised":
                raise HookFailed(f"{name}() raised {whole[1]} at bar {j}")
            if whole != short:
                return Divergence(
                    j,
                    int(candles.ts[j]),
                    name,
                    f"{name} at the close of bar {j} answers {_answer(whole)} after signals() "
                    f"saw the whole history but {_answer(short)} when the history ends at "
                    f"bar {j}",
                )
    return None


def _copy(candles: Candles) -> Candles:
    c = candles
    return Candles.from_arrays(
        *(np.array(a) for a in (c.ts, c.open, c.high, c.low, c.close, c.volume))
    )


def _answer(answer: Answer) -> str:
    kind, value = answer
    if kind == "raised":
        return f"an error ({value})"
    if value is None:
        return "hold"
    return str(value) if isinstance(value, Decimal) else repr(value)


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
