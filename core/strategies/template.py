"""What ``blockbotx strategy new NAME`` writes: a runnable, commented strategy and its test."""

from __future__ import annotations

from pathlib import Path

from core.errors import Conflict, InvalidInput
from core.strategies.api import NAME

STRATEGY = '''"""{title}: a starting point written by `blockbotx strategy new`.

Buys when a fast EMA crosses above a slow one while RSI is not overbought; sells when the fast
EMA crosses back below. Change the parameters and `signals` to your idea; docs/strategies.md
has the whole API. Check it with `blockbotx strategy check {name}`.
"""

import numpy as np
import talib

from core.strategies.api import CandleStrategy, Param, Signals
from core.strategies.indicators import crossed_above, crossed_below


class {cls}(CandleStrategy):
    # The name bots, backtests and the command line use.
    name = "{name}"
    api_version = 1
    description = "EMA cross, entries filtered by RSI."
    # Each parameter: type, default, bounds and a line of help. The bot form, the marketplace
    # and the Backtests screen show these; values out of range are refused with a message.
    params = {{
        "fast": Param(int, 12, min=2, max=500, help="Fast EMA period, in candles."),
        "slow": Param(int, 26, min=3, max=1000, help="Slow EMA period, in candles."),
        "rsi_period": Param(int, 14, min=2, max=200, help="RSI period, in candles."),
        "rsi_max": Param(float, 70.0, above=0, below=100, help="No entry above this RSI."),
    }}

    @classmethod
    def check(cls, p):
        # Rules between parameters: raise ValueError with a readable message.
        if p.fast >= p.slow:
            raise ValueError(f"fast ({{p.fast}}) must be smaller than slow ({{p.slow}})")

    def warmup(self):
        # Candles needed before the signals are reliable. An EMA needs about 10x its period
        # before its seeding fades; a live bot decides on the last warmup() + 2 candles.
        return max(self.p.slow, self.p.rsi_period) * 10

    def signals(self, candles):
        # candles.ts / open / high / low / close / volume are numpy arrays, oldest first.
        # Element i of every array returned may use candles 0..i only (no peeking ahead).
        fast = talib.EMA(candles.close, timeperiod=self.p.fast)
        slow = talib.EMA(candles.close, timeperiod=self.p.slow)
        rsi = talib.RSI(candles.close, timeperiod=self.p.rsi_period)
        with np.errstate(invalid="ignore"):
            calm = rsi < self.p.rsi_max
        return Signals(
            entry=crossed_above(fast, slow) & calm,
            exit=crossed_below(fast, slow),
            indicators={{"ema_fast": fast, "ema_slow": slow, "rsi": rsi}},
        )
'''

TEST = '''"""Tests for the {name} strategy (run them with: python -m pytest {test_file})."""

import importlib.util
from pathlib import Path

import numpy as np

from core.strategies.candles import Candles
from core.strategies.checks import check

_spec = importlib.util.spec_from_file_location(
    "{name}_under_test", Path(__file__).with_name("{module}.py")
)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
Strategy = _module.{cls}


def _candles(n=1500, seed=1):
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([close[0]], close[:-1]))
    high = np.maximum(open_, close) * 1.002
    low = np.minimum(open_, close) * 0.998
    ts = np.arange(n, dtype=np.int64) * 3_600_000
    return Candles.from_arrays(ts, open_, high, low, close, np.ones(n))


def test_signals_have_one_value_per_candle_and_fire():
    candles = _candles()
    out = Strategy.from_params({{}}).signals(candles)
    assert out.entry.shape == out.exit.shape == (len(candles),)
    assert out.entry.any() and out.exit.any()


def test_no_look_ahead_and_warmup_is_long_enough():
    report = check(Strategy, _candles())
    assert report.problems == []
    assert report.lookahead is None, report.lookahead
    assert report.warmup is None, report.warmup
'''


def write_template(name: str, directory: Path) -> list[Path]:
    """Write ``<name>.py`` and ``test_<name>.py`` into ``directory``; never overwrite."""
    if not NAME.match(name):
        raise InvalidInput(
            f"{name!r} is not a strategy name: 2-48 characters, a lower-case letter first, then "
            "lower-case letters, digits or _.",
            field="name",
        )
    cls = "".join(part.capitalize() for part in name.split("_") if part)
    code = directory / f"{name}.py"
    test = directory / f"test_{name}.py"
    for path in (code, test):
        if path.exists():
            raise Conflict(f"{path} already exists; nothing was written.")
    directory.mkdir(parents=True, exist_ok=True)
    title = name.replace("_", " ").capitalize()
    code.write_text(STRATEGY.format(title=title, name=name, cls=cls), encoding="utf-8")
    test.write_text(TEST.format(name=name, module=name, cls=cls, test_file=test), encoding="utf-8")
    return [code, test]
