"""Backtest speed: candles per second for sma_cross(10, 20) over 1,000,000 1h candles.

Runs BlockbotX's backtester (fast mode: exact integer accounting, the report and every trade
in Decimal) and, when the ``bench`` extra is installed, backtesting.py and vectorbt on the same
candles with the same rules (signal on a close, fill at the next open, 0.01 % fee, all-in
long-only). Each figure is the best of a few runs after a warm-up (vectorbt's numba compile is
not counted); the last column compares each engine's time with BlockbotX's.

    python bench/bench_backtest.py [--candles 1000000] [--repeat 3] [--whole]
                                   [--others /work/benchvenv/bin/python]

``--whole`` also times whole processes, as a user runs them, on the same candles written to a
CSV file: ``blockbotx backtest --csv`` against a backtesting.py script that reads the same CSV
with pandas, and against Freqtrade's ``backtesting`` on the same candles (stored in its own
data format first, untimed); and ``blockbotx optimize`` of 100 sma_cross parameter sets (a
10 × 10 grid, whole process and search alone) beside vectorbt's sweep of the same 100 pairs
(after its numba compile, which is not counted). ``optimize`` uses the configured database
(DATABASE_URL, or the embedded PostgreSQL). Each whole-process row prints ``ours ÷ it`` (our
whole process's seconds over its seconds) beside the issue's target: ≤ 0.2 against
backtesting.py, ≤ 0.02 against Freqtrade's ``backtesting``.

The other engines may live in another virtual environment (Freqtrade pins its own pandas and
numpy): ``--others PYTHON`` (or ``BLOCKBOTX_BENCH_PYTHON``) names its interpreter; the
whole-process rows and vectorbt's sweep run there. Freqtrade runs offline: it fetches the
exchange's market list at start, so the bench hands it a stored BTC/USDT market in place of
``load_markets``, and ``--cache none`` keeps it from reusing an earlier result. Its trades are
compared with ours: the count, and how many entries and exits fall on the same candles.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import freqtrade_offline
from core.backtest import BacktestSettings, run
from core.strategies import technical_strategy
from core.strategies.candles import Candles

FAST, SLOW, FEE = 10, 20, 0.0001
TARGETS = {"backtesting.py": 0.2, "freqtrade": 0.02}
"""Whole-process targets: our seconds ÷ theirs at most this (issue 13)."""
ROOT = Path(__file__).resolve().parents[1]
OTHERS_ENV = "BLOCKBOTX_BENCH_PYTHON"
SWEEP = [(f, s) for f in range(5, 15) for s in range(20, 30)]  # 100 sma_cross parameter sets
CASH = 1_000_000_000  # large enough that backtesting.py's whole-unit orders never starve


def make_candles(n: int, seed: int = 7) -> Candles:
    """A seeded 1h random walk with two-decimal prices (exact as Decimal), on whole hours as
    an exchange's candles are (Freqtrade floors its candle times to the timeframe)."""
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.003, n))), 2)
    open_ = np.r_[100.0, close[:-1]]
    high = np.round(np.maximum(open_, close) * (1 + rng.uniform(0, 0.004, n)), 2)
    low = np.round(np.minimum(open_, close) * (1 - rng.uniform(0, 0.004, n)), 2)
    volume = np.round(rng.lognormal(3, 0.6, n), 4)
    ts = 1_499_997_600_000 + np.arange(n, dtype=np.int64) * 3_600_000  # from 2017-07-14 02:00 UTC
    return Candles.from_arrays(ts, open_, high, low, close, volume)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_blockbotx(candles: Candles):
    strategy = technical_strategy("sma_cross", {"fast": FAST, "slow": SLOW})
    settings = BacktestSettings(Decimal(CASH), Decimal(str(FEE)), "1h")
    run(strategy, candles[:5000], settings)  # warm-up

    def summary(result) -> str:
        return f"{result.trades} trades, final equity {result.final_equity:,.2f}"

    return lambda: run(strategy, candles, settings), summary


def frame(candles: Candles):
    import pandas as pd

    # tz-naive UTC: vectorbt is far slower on a tz-aware index
    index = pd.to_datetime(candles.ts, unit="ms")
    return pd.DataFrame(
        {
            "Open": candles.open,
            "High": candles.high,
            "Low": candles.low,
            "Close": candles.close,
            "Volume": candles.volume,
        },
        index=index,
    )


def bench_backtesting_py(candles: Candles):
    import warnings

    import pandas as pd
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def sma(values, n):
        return pd.Series(values).rolling(n).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self):
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self):
            if crossover(self.fast, self.slow):
                if not self.position:
                    self.buy()
            elif crossover(self.slow, self.fast) and self.position:
                self.position.close()

    data = frame(candles)
    warnings.simplefilter("ignore")

    def go():
        bt = Backtest(data, SmaCross, cash=CASH, commission=FEE, finalize_trades=False)
        return bt.run()

    return go, lambda stats: f"{stats['# Trades']} trades"


def bench_vectorbt(candles: Candles):
    import vectorbt as vbt

    data = frame(candles)

    def next_bar(signal):  # a signal on a close fills at the next open
        out = np.zeros_like(signal)
        out[1:] = signal[:-1]
        return out

    def go(df):
        close = df["Close"]
        fast, slow = vbt.MA.run(close, FAST), vbt.MA.run(close, SLOW)
        entries = next_bar(fast.ma_crossed_above(slow).to_numpy())
        exits = next_bar(fast.ma_crossed_below(slow).to_numpy())
        pf = vbt.Portfolio.from_signals(
            close, entries, exits, price=df["Open"], fees=FEE, init_cash=CASH, freq="1h"
        )
        return pf, pf.final_value(), pf.max_drawdown(), pf.sharpe_ratio(), pf.trades.count()

    go(data.iloc[:5000])  # numba compile
    return lambda: go(data), lambda out: f"{out[4]} trades, final equity {out[1]:,.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--whole", action="store_true", help="also time whole processes and optimize"
    )
    parser.add_argument(
        "--no-optimize",
        action="store_true",
        help="with --whole: leave out optimize and vectorbt's sweep",
    )
    parser.add_argument(
        "--no-freqtrade",
        action="store_true",
        help="with --whole: leave out Freqtrade (its run takes many minutes)",
    )
    parser.add_argument(
        "--others",
        default=os.environ.get(OTHERS_ENV, sys.executable),
        help=f"the Python of the other engines (default ${OTHERS_ENV}, or this one)",
    )
    args = parser.parse_args()
    candles = make_candles(args.candles)
    print(
        f"sma_cross({FAST}, {SLOW}) over {len(candles):,} 1h candles, fee {FEE:.2%}, next-open fills"
    )
    engines = {}
    for name, prepare, module in (
        ("blockbotx", bench_blockbotx, None),
        ("backtesting.py", bench_backtesting_py, "backtesting"),
        ("vectorbt", bench_vectorbt, "vectorbt"),
    ):
        try:
            if module:
                __import__(module)
        except ImportError:
            engines[name] = None
            continue
        engines[name] = prepare(candles)
    # Rounds interleave the engines so a busy moment on the machine hits them alike; each
    # figure is an engine's best round. backtesting.py is slow enough to run once.
    best: dict[str, tuple[float, str]] = {}
    for round_ in range(args.repeat):
        for name, prepared in engines.items():
            if prepared is None or (name == "backtesting.py" and round_ > 0):
                continue
            fn, summary = prepared
            seconds, out = timed(fn)
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, summary(out))
    print(f"{'engine':<16}{'seconds':>10}{'candles/s':>16}{'× ours':>9}  result")
    ours = best["blockbotx"][0]
    for name in engines:
        if name not in best:
            where = "here (pip install -e '.[bench]'); --whole runs it with --others"
            print(f"{name:<16}{'not installed':>26}  {where}")
            continue
        seconds, text = best[name]
        print(
            f"{name:<16}{seconds:>10.3f}{len(candles) / seconds:>16,.0f}"
            f"{seconds / ours:>9.2f}  {text}"
        )
    if args.whole:
        whole(
            candles,
            args.others,
            optimize=not args.no_optimize,
            freqtrade=not args.no_freqtrade,
        )


def write_csv(candles: Candles, path: Path) -> None:
    table = np.column_stack(
        [candles.ts, candles.open, candles.high, candles.low, candles.close, candles.volume]
    )
    np.savetxt(
        path,
        table,
        fmt=["%d", "%.2f", "%.2f", "%.2f", "%.2f", "%.4f"],
        delimiter=",",
        header="date,open,high,low,close,volume",
        comments="",
    )


def process(args: list[str]) -> tuple[float, str]:
    """Seconds for a whole process (start-up, reading, work, output) and its stdout."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])}… failed:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


BACKTESTING_PY_SCRIPT = """
import sys, warnings
import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
warnings.simplefilter("ignore")
FAST, SLOW, FEE, CASH = {fast}, {slow}, {fee}, {cash}
df = pd.read_csv(sys.argv[1])
df.index = pd.to_datetime(df.pop("date"), unit="ms")
df.columns = ["Open", "High", "Low", "Close", "Volume"]
def sma(values, n):
    return pd.Series(values).rolling(n).mean().to_numpy()
class SmaCross(Strategy):
    def init(self):
        self.fast = self.I(sma, self.data.Close, FAST)
        self.slow = self.I(sma, self.data.Close, SLOW)
    def next(self):
        if crossover(self.fast, self.slow):
            if not self.position:
                self.buy()
        elif crossover(self.slow, self.fast) and self.position:
            self.position.close()
stats = Backtest(df, SmaCross, cash=CASH, commission=FEE, finalize_trades=False).run()
print(stats["# Trades"])
"""


VECTORBT_SWEEP_SCRIPT = """
import json, sys, time
import numpy as np, pandas as pd, vectorbt as vbt
FEE, CASH, SWEEP = {fee}, {cash}, {sweep}
df = pd.read_csv(sys.argv[1])
df.index = pd.to_datetime(df.pop("date"), unit="ms")  # tz-naive: vectorbt is slow on tz-aware
def go(df):  # the bench's rules, 10 pairs at a time so the arrays fit in memory
    close, best = df["close"], -np.inf
    for k in range(0, len(SWEEP), 10):
        pairs = SWEEP[k : k + 10]
        fast = vbt.MA.run(close, [f for f, _ in pairs], short_name="fast")
        slow = vbt.MA.run(close, [s for _, s in pairs], short_name="slow")
        entries = np.roll(fast.ma_crossed_above(slow).to_numpy(), 1, axis=0)
        exits = np.roll(slow.ma_crossed_above(fast).to_numpy(), 1, axis=0)
        entries[0], exits[0] = False, False  # a signal on a close fills at the next open
        pf = vbt.Portfolio.from_signals(
            close, entries, exits, price=df["open"], fees=FEE, init_cash=CASH, freq="1h"
        )
        best = max(best, float(pf.total_return().max()))
    return best
go(df.iloc[:5000])  # numba compile, not counted
start = time.perf_counter()
best = go(df)
print(json.dumps({{"seconds": time.perf_counter() - start, "best": best}}))
"""


def has_module(python: str, module: str) -> bool:
    """Whether ``python`` can import ``module`` (without importing it)."""
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([python, "-c", probe], capture_output=True, check=False).returncode == 0


Row = tuple[str, float, str, str]  # name, seconds, result, ratio against ours and its target


def _against(ours: float, seconds: float, engine: str) -> str:
    """``ours ÷ it`` and whether it meets the target for ``engine``."""
    ratio = ours / seconds
    target = TARGETS[engine]
    return f"{ratio:.3f} (target ≤ {target}: {'met' if ratio <= target else 'missed'})"


def whole(candles: Candles, others: str, *, optimize: bool = True, freqtrade: bool = True) -> None:
    print(f"\nWhole processes on a CSV of {len(candles):,} 1h candles (start-up and reading count)")
    print(f"other engines run by {others}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "candles.csv"
        write_csv(candles, path)
        cli = [sys.executable, "-m", "tui.cli"]
        common = ["--csv", str(path), "--timeframe", "1h", "--strategy", "sma_cross"]
        money = ["--fee", str(FEE), "--cash", str(CASH)]
        seconds, out = process(
            [*cli, "backtest", *common, "--set", f"fast={FAST}", "--set", f"slow={SLOW}",
             *money, "--json"]
        )  # fmt: skip
        ours = seconds
        report = json.loads(out)
        rows.append(("blockbotx backtest --csv", seconds, f"{report['trades']} trades", ""))
        name = "backtesting.py (pandas.read_csv + run)"
        if has_module(others, "backtesting"):
            script = BACKTESTING_PY_SCRIPT.format(fast=FAST, slow=SLOW, fee=FEE, cash=CASH)
            seconds, out = process([others, "-c", script, str(path)])
            against = _against(ours, seconds, "backtesting.py")
            rows.append((name, seconds, f"{out.strip()} trades", against))
        else:
            rows.append((name, 0.0, "not installed", ""))
        name = "freqtrade backtesting (--cache none)"
        if not freqtrade:
            rows.append((name, 0.0, "left out (--no-freqtrade)", ""))
        elif has_module(others, "freqtrade"):
            run_args = freqtrade_offline.prepare(
                others, path, Path(tmp) / "freqtrade", fast=FAST, slow=SLOW, fee=FEE, cash=CASH
            )
            seconds, out = process(run_args)
            ours_trades = [
                (_ms(t["entry_time"]), _ms(t["exit_time"])) for t in report["trade_list"]
            ]
            text = freqtrade_offline.compare(out, ours_trades)
            rows.append((name, seconds, text, _against(ours, seconds, "freqtrade")))
        else:
            rows.append((name, 0.0, "not installed", ""))
        if optimize:
            rows += optimize_rows(cli, common, money, others, path)
    print(f"{'run':<44}{'seconds':>9}  {'ours ÷ it (target)':<32}result")
    for name, seconds, text, against in rows:
        shown = f"{seconds:>9.2f}" if seconds else f"{'—':>9}"
        print(f"{name:<44}{shown}  {against:<32}{text}")
    print(f"load average at the end: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


def optimize_rows(
    cli: list[str], common: list[str], money: list[str], others: str, path: Path
) -> list[Row]:
    """``blockbotx optimize`` of the 100 sets (whole process, and its search alone) beside
    vectorbt's sweep of the same sets."""
    rows: list[Row] = []
    seconds, out = process(
        [*cli, "optimize", *common, "--space", "fast=5:14", "--space", "slow=20:29",
         "--sampler", "grid", "--oos", "0", *money, "--json"]
    )  # fmt: skip
    found = json.loads(out)
    trials = len(found["trials"])
    search_s = found["elapsed_s"]
    best = found["best"]
    rows.append(
        (
            f"blockbotx optimize, {trials} sets (whole)",
            seconds,
            f"{trials / seconds:.2f} trials/s; best {best['params']} {best['value']} %",
            "",
        )
    )
    rows.append(
        (
            f"  of which the search ({os.cpu_count()} workers)",
            search_s,
            f"{trials / search_s:.2f} trials/s",
            "",
        )
    )
    name = "vectorbt sweep of the same 100 sets"
    if has_module(others, "vectorbt"):
        script = VECTORBT_SWEEP_SCRIPT.format(fee=FEE, cash=CASH, sweep=SWEEP)
        _, out = process([others, "-c", script, str(path)])
        swept = json.loads(out.strip().splitlines()[-1])
        text = f"{len(SWEEP) / swept['seconds']:.2f} sets/s (after its compile); "
        rows.append((name, swept["seconds"], text + f"best {swept['best']:.2%}", ""))
    else:
        rows.append((name, 0.0, "not installed", ""))
    return rows


def _ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


if __name__ == "__main__":
    main()
