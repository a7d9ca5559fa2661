"""CSV reading speed: 1,000,000 hourly candles through ``read_csv`` and whole processes.

Writes a seeded CSV (ISO datetimes, two-decimal prices, the bench_backtest candles), then times:
the vectorised read and the row parser in this process, and as whole processes ``blockbotx
backtest --csv`` (sma_cross) and ``blockbotx data import`` of this checkout, and of another
checkout with ``--against DIR`` (e.g. the code before the vectorised read). ``data import``
needs a database: DATABASE_URL, else the embedded one in the data dir.

    python bench/bench_csv.py [--candles 1000000] [--against /path/to/old/checkout] [--no-import]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_backtest import make_candles  # noqa: E402
from core.backtest.csv_data import _parse, read_csv  # noqa: E402
from core.backtest.csv_fast import read_fast  # noqa: E402


def write_csv(path: Path, n: int) -> None:
    c = make_candles(n)
    stamps = np.datetime_as_string(c.ts.astype("datetime64[ms]"), unit="s")
    with open(path, "w", encoding="utf-8") as out:
        out.write("date,open,high,low,close,volume\n")
        for row in zip(
            stamps.tolist(),
            c.open.tolist(),
            c.high.tolist(),
            c.low.tolist(),
            c.close.tolist(),
            c.volume.tolist(),
            strict=True,
        ):
            out.write(f"{row[0]}Z,{row[1]!r},{row[2]!r},{row[3]!r},{row[4]!r},{row[5]!r}\n")


def timed(fn) -> str:  # type: ignore[no-untyped-def]
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return f"{time.perf_counter() - start:6.2f} s wall, {time.process_time() - cpu:6.2f} s CPU"


def whole(checkout: Path, *args: str, database_url: str | None = None) -> str:
    """Wall time and CPU time (user + system) of the command as a whole process: on a shared,
    loaded machine the CPU time is the steadier figure."""
    env = {**os.environ, "NO_COLOR": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli", *args], cwd=checkout, env=env, capture_output=True
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed in {checkout}: {done.stderr.decode()[-500:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return f"{elapsed:6.2f} s wall, {cpu:6.2f} s CPU"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--candles", type=int, default=1_000_000)
    parser.add_argument("--against", type=Path, help="another checkout to time the same way")
    parser.add_argument("--no-import", action="store_true", help="skip data import")
    parser.add_argument(
        "--database-url",
        help="for data import (default: DATABASE_URL, else a scratch database on the tests' "
        "embedded server, dropped afterwards)",
    )
    args = parser.parse_args()
    url, scratch = args.database_url or os.environ.get("DATABASE_URL"), None
    if not args.no_import and not url:
        from tests import pg

        url = scratch = asyncio.run(pg.create_database("bbx_bench_csv"))
    try:
        run(args, url)
    finally:
        if scratch:
            from tests import pg

            asyncio.run(pg.drop_database(scratch))


def _met(figure: str, args: argparse.Namespace) -> str:
    """``: met`` / ``: missed`` for a timed figure ("1.23 s, …") scaled to 1,000,000 rows."""
    try:
        seconds = float(figure.split(" s")[0])
    except ValueError:
        return ""
    scaled = seconds * 1_000_000 / max(args.candles, 1)
    return f"; {scaled:.2f} s per million: {'met' if scaled <= 2 else 'missed'}"


def run(args: argparse.Namespace, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "candles.csv"
        write_csv(path, args.candles)
        size = path.stat().st_size / 1e6
        print(f"{args.candles:,} candles, {size:.0f} MB")
        fast = timed(lambda: read_fast(path, 3_600_000))
        assert read_fast(path, 3_600_000) is not None, "the fast reader took the file"
        per_million = (
            f"(target: reading with the checks ≤ 2 s per 1,000,000 rows{_met(fast, args)})"
        )
        print(f"vectorised read (polars), in-process:     {fast}  {per_million}")
        with open(path, newline="", encoding="utf-8-sig") as handle:
            slow = timed(lambda: _parse(handle, 3_600_000, "1h"))
        print(f"row parser, in-process:                   {slow}")
        same = read_csv(path, "1h")
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = _parse(handle, 3_600_000, "1h")
        assert all(
            np.array_equal(getattr(same, k), getattr(rows, k))
            for k in ("ts", "open", "high", "low", "close", "volume")
        ), "both readers give the same candles"
        checkouts = [("this checkout", ROOT)]
        if args.against:
            checkouts.append((str(args.against), args.against))
        backtest = ["backtest", "--csv", str(path), "--timeframe", "1h"]
        backtest += ["--strategy", "sma_cross", "--set", "fast=10", "--set", "slow=20"]
        if not args.no_import:
            whole(ROOT, "db", "upgrade", database_url=url)  # migrations are not the import
        for label, checkout in checkouts:
            print(f"{label}: whole process backtest --csv: {whole(checkout, *backtest)}")
            if not args.no_import:
                imported = whole(
                    checkout,
                    "data",
                    "import",
                    str(path),
                    "--symbol",
                    "BNCH/USDT",
                    "--timeframe",
                    "1h",
                )
                print(f"{label}: whole process data import:    {imported}")


if __name__ == "__main__":
    main()
