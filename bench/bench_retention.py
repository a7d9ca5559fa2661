"""Size of ``executions`` after a simulated day of 1,000 bots, with and without retention.

A day of cycles is written as the engine writes them (one row per bot and slot; the engine's
default slot of 10 s gives 8,640 rows per bot and day; rows shaped like real ones: a reason of
~70 characters, a few indicators as JSONB, 1 % BUY/SELL). Then the engine's own retention job
(``core.engine.housekeeping.retention``, HOLDs older than 6 hours folded into
``execution_daily`` and deleted; BUY/SELL kept) runs at the end of the day, and the table is
compacted (``VACUUM FULL``) to show the space the kept rows take — what the table holds steady
at, since the space freed each hour is reused by the next hour's rows.

Runs against a scratch database on ``DATABASE_URL`` or the embedded PostgreSQL, created and
dropped by the script.

    python bench/bench_retention.py [--bots 1000] [--cycle 10] [--hours 24] [--keep-hours 6]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.db import migrate
from core.db.engine import Database, connect_raw
from core.engine import housekeeping
from core.engine.ids import fast_id

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # scratch databases like the tests'
from tests import pg

DAY_END = datetime(2026, 1, 6, tzinfo=UTC)

_HOUR = """
INSERT INTO executions (id, bot_id, execution_id, signal, confidence, reason, price, indicators,
                        status, error, timestamp)
SELECT substr(md5(b.id || s::text), 1, 25),
       b.id,
       b.id || '-' || s,
       CASE WHEN random() < 0.01 THEN (CASE WHEN random() < 0.5 THEN 'BUY' ELSE 'SELL' END)
            ELSE 'HOLD' END,
       0,
       'SMA(10) ' || round((65000 + random() * 100)::numeric, 2) || ' vs SMA(20) '
           || round((65000 + random() * 100)::numeric, 2) || ': no crossing.',
       round((65000 + random() * 100)::numeric, 2),
       jsonb_build_object('sma_fast', round(random()::numeric * 70000, 8),
                          'sma_slow', round(random()::numeric * 70000, 8)),
       'success', NULL,
       to_timestamp(s * $1::float8)
FROM bots b, generate_series($2::bigint, $3::bigint) AS s
"""


async def size(conn) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    rows = await conn.fetchval("SELECT count(*) FROM executions")
    total = await conn.fetchval("SELECT pg_total_relation_size('executions')")
    return rows, total


def mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


async def main(bots: int, cycle: float, hours: int, keep_hours: float) -> None:
    url = await pg.create_database("bbx_bench_retention")
    db = Database(url)
    conn = await connect_raw(url)
    try:
        await migrate.upgrade(db)
        await conn.execute("SET synchronous_commit = off")
        user = fast_id()
        await conn.execute(
            "INSERT INTO users (id, email, password) VALUES ($1, 'bench@example.com', 'x')", user
        )
        await conn.executemany(
            "INSERT INTO bots (id, user_id, name, type, status, config, risk_settings) "
            "VALUES ($1, $2, 'bench', 'signal', 'active', '{}', '{}')",
            [(fast_id(), user) for _ in range(bots)],
        )
        start = DAY_END - timedelta(hours=hours)
        first = int(start.timestamp() / cycle)
        per_hour = int(3600 / cycle)
        t = time.perf_counter()
        for hour in range(hours):
            lo = first + hour * per_hour
            await conn.execute(_HOUR, cycle, lo, lo + per_hour - 1)
            print(f"\rhour {hour + 1}/{hours} written", end="", flush=True)
        await conn.execute("VACUUM ANALYZE executions")
        rows_without, size_without = await size(conn)
        written = time.perf_counter() - t
        print(f"\r{rows_without:,} executions written in {written:.0f}s", flush=True)

        t = time.perf_counter()
        pruned = await housekeeping.retention(
            db, DAY_END, keep=timedelta(hours=keep_hours), batch=100_000, max_batches=10_000
        )
        took = time.perf_counter() - t
        await conn.execute("VACUUM ANALYZE executions")
        rows_after, size_reusable = await size(conn)
        await conn.execute("VACUUM FULL executions")
        _rows, size_with = await size(conn)
        daily_rows = await conn.fetchval("SELECT count(*) FROM execution_daily")
        daily_size = await conn.fetchval("SELECT pg_total_relation_size('execution_daily')")
        kept_trades = await conn.fetchval("SELECT count(*) FROM executions WHERE signal <> 'HOLD'")

        print(
            f"\n{bots:,} bots, a cycle every {cycle:g} s, {hours} h; HOLDs kept {keep_hours:g} h\n"
        )
        print(f"{'':<44}{'rows':>14}{'size':>12}")
        print(f"{'executions without retention':<44}{rows_without:>14,}{mb(size_without):>12}")
        print(f"{'executions with retention (steady)':<44}{rows_after:>14,}{mb(size_with):>12}")
        print(f"{'  of which BUY/SELL (all kept)':<44}{kept_trades:>14,}{'':>12}")
        print(f"{'execution_daily (folded HOLDs)':<44}{daily_rows:>14,}{mb(daily_size):>12}")
        print(
            f"\nretention folded and deleted {pruned:,} HOLDs in {took:.0f}s "
            f"({pruned / max(took, 1e-9):,.0f} rows/s); before VACUUM FULL the file was "
            f"{mb(size_reusable)} with the freed space reusable."
        )
        per_day = size_without / hours * 24
        print(f"without retention the table grows by about {mb(int(per_day))} a day.")
    finally:
        await conn.close()
        await db.dispose()
        await pg.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--cycle", type=float, default=10.0)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--keep-hours", type=float, default=6.0)
    args = parser.parse_args()
    asyncio.run(main(args.bots, args.cycle, args.hours, args.keep_hours))
