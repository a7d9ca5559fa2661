"""Engine speed: cycles per second per process, tick-to-stop-loss-close latency, memory.

1. Throughput: 1,000 paper bots on the simulated market (signal bots on the five built-in
   indicators, DCA, grid, arbitrage and pump-screener bots), run by real ``blockbotx engine``
   processes with a cycle slot short enough (50 ms) that every bot is always due, so each
   process runs flat out; every cycle is persisted (an ``executions`` row, the bot's row).
   Cycles/s are the processes' own counts of written cycles (``engine_processes``) over a
   15-second window after a warm-up; first one process, then two against the same database.
   Resident memory is the engine process's peak RSS.
2. Latency: 100 holder bots with an open BTC position each and a stop-loss a step apart (30
   more for the burst; all paused: they only hold). The BTC price is walked down one step per
   tick, so each tick hits one stop; the time from the price update reaching the exits to the
   closing sale being committed is measured per position. Finally 30 stops are hit by one tick
   (a burst). Three runs: the holders alone (the fleet rests), then the deployment — the
   1,000-bot fleet cycling (5-second slots) in a real ``blockbotx engine`` process while the
   exits are closed here by an engine in the exits-only role (``--exits-only``) — and, for
   comparison, the old way: one engine here cycling the fleet and closing the exits in one event
   loop. The holders' BTC is pinned far under the simulated market's, so the spawned engine
   (which prices BTC there) never closes one itself. The CPU time of each batch of exits in the
   exits-only role is printed too (and the longest garbage collection): unlike wall time it
   hardly depends on what else the machine runs. For the exits-only runs the median and the
   slowest single exits are broken down (to the batch, BEGIN + read, in memory, write, COMMIT,
   CPU) with the reloads and garbage collections on the exits' loop around them.

Runs against a scratch database on ``DATABASE_URL`` or the embedded PostgreSQL, created and
dropped by the script.

    python bench/bench_engine.py [--bots 1000] [--window 15] [--latency-only]
    python bench/bench_engine.py --burst-ab 30   # the exit path alone, batched vs one by one
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psutil
from sqlalchemy import func, select, update

from core.brokers.paper import SlippageModel
from core.brokers.types import Side, new_client_order_id
from core.clock import SYSTEM_CLOCK
from core.db import migrate
from core.db.engine import Database
from core.db.models.bots import Bot, Execution
from core.db.models.engine import EngineProcess
from core.db.models.trading import Position
from core.engine.exit_state import start_state
from core.engine.exits import YIELD_ROWS, BatchTiming, Reload
from core.engine.orders import market, submit
from core.engine.runner import EngineRunner, settle_heap
from core.engine.settings import EngineSettings
from core.engine.venues import Markets
from core.market.hub import MarketHubs, PriceHub
from core.market.simulated import SimulatedMarket
from core.services import bots as service
from core.services.bot_views import BotSpec
from core.strategies.registry import validate_risk_settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # scratch databases and the pinned market, like the tests'
from tests import pg  # noqa: E402
from tests.engine.support import PinnedMarket  # noqa: E402
from tests.service_users import add_user  # noqa: E402

SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "BNB/USDT")
INDICATORS = (
    {"name": "sma_cross", "fast": 10, "slow": 20},
    {"name": "ema_cross"},
    {"name": "rsi_reversal"},
    {"name": "macd_cross"},
    {"name": "bollinger_breakout"},
)
P0 = Decimal(1_000)
"""The holders' BTC price: far under the simulated market's (~65,000), so a spawned engine,
which prices BTC there, never sees their stops breached: only the exits measured here close
them."""
QUANTITY = Decimal("0.1")
STATEMENTS: dict[str, tuple[int, int, int]] = {}  # tag -> (batched statements, batches, exits)
BATCH_CPU: dict[str, list[tuple[int, float]]] = {}  # tag -> (positions, CPU ms) of each batch
GC_PAUSES: dict[str, float] = {}  # tag -> this process's longest garbage collection (ms)
TRACES: dict[
    str, tuple[list[BatchTiming], list[tuple[float, float, int]], list[tuple[float, float]]]
]
TRACES = {}  # tag -> the exits' batch timings, reloads and garbage collections (perf_counter)
STEP = Decimal("0.001")  # % between two holders' stops: one BTC price tick (0.01) at P0


class GcPauses:
    """The garbage collector's pauses in this process (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.ms: list[float] = []
        self.spans: list[tuple[float, float]] = []
        self._start = 0.0

    def timed(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            end = time.perf_counter()
            self.ms.append((end - self._start) * 1000)
            self.spans.append((self._start, end))


def fleet_specs(n: int) -> list[BotSpec]:
    """70 % signal bots, 12 % DCA, 8 % grid, 5 % arbitrage, 5 % pump screeners."""
    out = []
    for i in range(n):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        kind = i % 20
        if kind < 14:
            out.append(
                BotSpec(
                    f"signal {i}",
                    "signal",
                    {"symbol": symbol, "timeframe": "1m", "indicator": INDICATORS[i % 5]},
                    {"stop_loss_percent": "2", "take_profit_percent": "3"},
                )
            )
        elif kind < 16 or (kind == 16 and i % 3):
            out.append(
                BotSpec(
                    f"dca {i}",
                    "dca",
                    {
                        "symbol": symbol,
                        "timeframe": "1m",
                        "quote_amount": "50",
                        "interval_minutes": 30,
                    },
                )
            )
        elif kind < 18:
            out.append(
                BotSpec(
                    f"grid {i}",
                    "grid",
                    {
                        "symbol": "ETH/USDT",
                        "lower_price": "1000",
                        "upper_price": "9000",
                        "grid_count": 20,
                        "quote_per_grid": "20",
                    },
                )
            )
        elif kind == 18:
            out.append(
                BotSpec(
                    f"arbitrage {i}",
                    "arbitrage",
                    {
                        "symbol": symbol,
                        "simulated_offset_percent": "0.1",
                        "threshold_percent": "0.5",
                    },
                )
            )
        else:
            out.append(
                BotSpec(
                    f"screener {i}",
                    "pump_screener",
                    {"symbols": ["PEPE/USDT", "WIF/USDT", "BONK/USDT"], "timeframe": "5m"},
                )
            )
    return out


async def create(db: Database, specs: list[BotSpec], email: str) -> list[str]:
    actor = await add_user(db, email, plan="enterprise")  # no plan limit on bots
    ids = []
    for start in range(0, len(specs), 200):
        async with db.sessions.begin() as s:
            for spec in specs[start : start + 200]:
                view = await service.create_bot(s, actor, spec)
                await service.start_bot(s, actor, view.id)
                ids.append(view.id)
    return ids


# -- 1. throughput of real engine processes ------------------------------------------------------


def spawn(
    url: str, n: int, *, cycle_seconds: str = "0.05", nice: int = 0
) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "BLOCKBOTX_ENGINE_NICE": str(nice),
        "DATABASE_URL": url,
        "BLOCKBOTX_ENGINE_CYCLE_SECONDS": cycle_seconds,
        "BLOCKBOTX_ENGINE_HEARTBEAT_SECONDS": "1",
        "BLOCKBOTX_ENGINE_HOUSEKEEPING_SECONDS": "3600",
        "BLOCKBOTX_ENGINE_DELIVER_NOTIFICATIONS": "false",
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "engine"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(n)
    ]


async def cycle_counts(db: Database) -> dict[int, int]:
    async with db.session() as s:
        rows = await s.execute(
            select(EngineProcess.pid, EngineProcess.cycles_total).where(
                EngineProcess.stopped_at.is_(None)
            )
        )
        return dict(rows.all())


async def started(db: Database, processes: int) -> None:
    """Until ``processes`` engines have registered."""
    deadline = time.monotonic() + 60
    while len(await cycle_counts(db)) < processes:
        if time.monotonic() > deadline:
            raise SystemExit("the engines did not start")
        await asyncio.sleep(0.5)


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(30)


async def throughput(
    db: Database, url: str, processes: int, warm: float, window: float
) -> tuple[list[float], list[float]]:
    """Cycles/s of each process over ``window`` seconds, and each one's peak RSS in MB."""
    procs = spawn(url, processes)
    peaks = {p.pid: 0 for p in procs}

    def sample() -> None:
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                peaks[p.pid] = max(peaks[p.pid], psutil.Process(p.pid).memory_info().rss)

    try:
        await started(db, processes)
        end = time.monotonic() + warm
        while time.monotonic() < end:
            sample()
            await asyncio.sleep(0.5)
        first, t0 = await cycle_counts(db), time.monotonic()
        end = t0 + window
        while time.monotonic() < end:
            sample()
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.1)  # one more heartbeat with the last counts
        last, t1 = await cycle_counts(db), time.monotonic() - 1.1
    finally:
        stop(procs)
    rates = [(last[p.pid] - first[p.pid]) / (t1 - t0) for p in procs]
    return rates, [peaks[p.pid] / 2**20 for p in procs]


# -- 2. tick to stop-loss close ----------------------------------------------------------------


async def latency(
    db: Database,
    url: str,
    holders: int,
    burst: int,
    tag: str,
    *,
    fleet: str,
    batch: bool = True,
    fleet_nice: int = 0,
) -> tuple[list[float], list[float]]:
    """Walk the holders' stops, one per tick, then one tick hitting ``burst`` stops; returns
    the tick-to-commit times (ms) of the walk and of the burst. ``fleet``: "none" (it rests),
    "spawned" (a real ``blockbotx engine`` process cycles it and the exits are closed here in the
    exits-only role: the deployment) or "same loop" (one engine here cycles it and closes the
    exits too: the old figure)."""
    pinned = PinnedMarket(SimulatedMarket(clock=SYSTEM_CLOCK), {"BTC/USDT": P0})
    hubs = MarketHubs()
    hubs.add(PriceHub(pinned, max_age=timedelta(0)))
    markets = Markets(hubs=hubs, slippage=SlippageModel(impact=Decimal(0)))
    settings = EngineSettings(
        cycle_seconds=5,
        price_poll_seconds=0.05,
        deliver_notifications=False,
        housekeeping_seconds=3600,
        batch_exits=batch,
        exits_only=fleet != "same loop",
    )
    runner = EngineRunner(db, settings=settings, markets=markets)
    pauses = GcPauses()
    specs = [
        BotSpec(
            f"holder {i}",
            "signal",
            {"symbol": "BTC/USDT", "timeframe": "1h"},
            {"stop_loss_percent": str(STEP * (i + 1) if i < holders else STEP * (holders + 10))},
        )
        for i in range(holders + burst)
    ]
    ids = await create(db, specs, f"holders-{tag}@example.com")
    for bot_id, spec in zip(ids, specs, strict=True):
        rules = validate_risk_settings(spec.risk_settings)
        async with db.sessions.begin() as s:
            bot = await s.get(Bot, bot_id)
            venue = await runner.ctx.venue(s, bot_id, bot.user_id, True)
            result = await submit(
                s,
                runner.ctx.desk,
                venue,
                market("BTC/USDT", Side.BUY, QUANTITY, new_client_order_id()),
            )
            position = await s.get(Position, result.fills[-1].position_id)
            start_state(position, rules)
    # The holders only hold: no cycle of theirs (in any process) sells on a signal mid-walk.
    async with db.sessions.begin() as s:
        await s.execute(update(Bot).where(Bot.id.in_(ids)).values(status="paused"))
    engines = spawn(url, 1, cycle_seconds="5", nice=fleet_nice) if fleet == "spawned" else []
    try:
        if engines:
            await started(db, 1)
        settle_heap()  # as ``blockbotx engine`` does
        await runner.start()
        await asyncio.sleep(4)  # the fleet is cycling, the holders' stops are watched
        gc.callbacks.append(pauses.timed)
        for i in range(1, holders + 1):
            pinned.pinned["BTC/USDT"] = P0 * (1 - STEP * i / 100)
            await asyncio.sleep(0.25)
        deadline = time.monotonic() + 10  # the walk's last exit, before the burst's tick
        while runner.watcher.exits < holders and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        singles = list(runner.watcher.latencies_ms)
        pinned.pinned["BTC/USDT"] = P0 * (1 - STEP * (holders + 10) / 100)
        await asyncio.sleep(3)
        bursts = list(runner.watcher.latencies_ms)[len(singles) :]
        if settings.exits_only:  # nothing else runs on its loop: the CPU is the batches'
            BATCH_CPU[tag] = list(runner.watcher.batch_cpu_ms)
        STATEMENTS[tag] = (runner.watcher.statements, runner.watcher.batches, runner.watcher.exits)
        GC_PAUSES[tag] = max(pauses.ms, default=0.0)
        TRACES[tag] = (list(runner.watcher.timings), list(runner.watcher.reloads), pauses.spans)
    finally:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(pauses.timed)
        await runner.stop()
        stop(engines)
    return singles, bursts


async def burst_ab(db: Database, n: int, rounds: int) -> None:
    """The exit path alone, both ways under the same load: ``n`` positions breached by one tick,
    closed together (one transaction) or one by one (four at a time, a transaction each), the
    two alternating ``rounds`` times. Each round is rolled back (the positions stay open for the
    next), so the time is up to the commit; statements are counted at the driver."""
    from sqlalchemy import event

    from core.engine.exit_batch import close_together
    from core.engine.exits import apply_exit

    pinned = PinnedMarket(SimulatedMarket(clock=SYSTEM_CLOCK), {"BTC/USDT": P0})
    hubs = MarketHubs()
    hubs.add(PriceHub(pinned, max_age=timedelta(0)))
    markets = Markets(hubs=hubs, slippage=SlippageModel(impact=Decimal(0)))
    runner = EngineRunner(db, settings=EngineSettings(deliver_notifications=False), markets=markets)
    specs = [
        BotSpec(f"burst {i}", "signal", {"symbol": "BTC/USDT", "timeframe": "1h"},
                {"stop_loss_percent": "2"})
        for i in range(n)
    ]  # fmt: skip
    ids = await create(db, specs, "burst@example.com")
    rules = validate_risk_settings(specs[0].risk_settings)
    for bot_id in ids:
        async with db.sessions.begin() as s:
            bot = await s.get(Bot, bot_id)
            venue = await runner.ctx.venue(s, bot_id, bot.user_id, True)
            result = await submit(
                s, runner.ctx.desk, venue,
                market("BTC/USDT", Side.BUY, QUANTITY, new_client_order_id()),
            )  # fmt: skip
            start_state(await s.get(Position, result.fills[-1].position_id), rules)
            await venue.pair(s, "BTC/USDT")
    pinned.pinned["BTC/USDT"] = P0 * Decimal("0.97")
    async with db.sessions() as s:
        await runner.watcher.load(s)
    hub = hubs.get("simulated")
    assert hub is not None
    now = SYSTEM_CLOCK.now()
    found = runner.watcher.breaches("simulated", {"BTC/USDT": await hub.ticker("BTC/USDT")}, now)
    assert len(found) == n, len(found)
    counted: list[int] = [0]

    def count(*_args: object) -> None:
        counted[0] += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    together: list[float] = []
    alone: list[float] = []
    cpu: dict[str, list[float]] = {"together": [], "one by one": []}  # this process's CPU ms
    statements = {"together": 0, "one by one": 0}
    try:
        for _ in range(rounds):
            counted[0] = 0
            t, c = time.perf_counter(), time.process_time()
            async with db.sessions() as s, s.begin():
                await close_together(runner.ctx, s, found, now)
                together.append((time.perf_counter() - t) * 1000)
                cpu["together"].append((time.process_time() - c) * 1000)
                await s.rollback()
            statements["together"] = counted[0]
            gate = asyncio.Semaphore(4)

            async def one(position_id: str, price: Decimal, gate: asyncio.Semaphore = gate) -> None:
                async with gate, db.sessions() as s, s.begin():
                    await apply_exit(runner.ctx, s, position_id, price, now)
                    await s.rollback()

            counted[0] = 0
            t, c = time.perf_counter(), time.process_time()
            await asyncio.gather(*(one(w.position_id, tk.last) for w, tk in found))
            alone.append((time.perf_counter() - t) * 1000)
            cpu["one by one"].append((time.process_time() - c) * 1000)
            statements["one by one"] = counted[0]
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        await runner.ctx.close()
    print(
        f"\n{n} stops breached by one tick, the exit path alone, {rounds} alternating rounds "
        f"(load average {os.getloadavg()[0]:.1f}):"
    )
    for name, times in (("together", together), ("one by one", alone)):
        print(
            f"  {name:<11} all {n} closed in p50 {pct(times, 0.5):7.1f} ms, "
            f"max {max(times):7.1f} ms; CPU p50 {pct(cpu[name], 0.5):6.1f} ms; "
            f"{statements[name]} statements "
            f"({statements[name] / n:.1f} per exit)"
        )


def overlap_ms(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """How much of ``start``–``end`` the spans cover (they don't overlap each other)."""
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans) * 1000


def print_trace(
    tag: str,
    timings: list[BatchTiming],
    reloads: list[Reload],
    collections: list[tuple[float, float]],
) -> None:
    """Where the median and the slowest single exits' time went, and what else ran on the
    exits' event loop from 20 ms before the prices came in to the commit (reloads, garbage
    collections). The rest of a phase beyond its CPU is waiting: for PostgreSQL, or for a CPU
    the other processes hold."""
    singles = sorted(
        (t for t in timings if t.positions == 1), key=lambda t: t.committed - t.arrived
    )
    if not singles:
        return
    picked = [("p50", singles[len(singles) // 2])] + [("slowest", t) for t in singles[-3:]]
    print(f"single exits in the exits-only process ({tag}), ms:")
    for name, t in picked:
        phases = ", ".join(f"{k} {v:.1f}" for k, v in t.phases_ms().items())
        since = t.arrived - 0.020
        ran = overlap_ms([(r.began, r.ended) for r in reloads], since, t.committed)
        gc_ms = overlap_ms(collections, since, t.committed)
        print(
            f"  {name:<8}{(t.committed - t.arrived) * 1000:6.1f}: {phases}; CPU {t.cpu_ms:.1f}; "
            f"reloads {ran:.1f}, GC {gc_ms:.1f} in the 20 ms before and during"
        )
    rows = [float(r.rows) for r in reloads]
    longest = max((r.ended - r.began for r in reloads), default=0.0) * 1000
    held = max((r.longest_chunk_ms for r in reloads), default=0.0)
    print(
        f"  reloads: {len(reloads)}, rows read p50 {pct(rows, 0.5):.0f}, "
        f"max {max(rows, default=0):.0f}; the longest took {longest:.1f} ms; the longest chunk "
        f"({YIELD_ROWS} rows fetched and placed, the loop handed back after each) {held:.1f} ms"
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


async def main(
    bots: int,
    window: float,
    *,
    throughput_too: bool,
    batch: bool,
    burst: int = 0,
    fleet_nice: int = 0,
) -> None:
    url = await pg.create_database("bbx_bench_engine")
    db = Database(url, pool_size=10)
    try:
        await migrate.upgrade(db)
        if burst:
            await burst_ab(db, burst, 10)
            return
        t = time.perf_counter()
        await create(db, fleet_specs(bots), "fleet@example.com")
        print(
            f"{bots} paper bots created in {time.perf_counter() - t:.1f}s; measuring…", flush=True
        )
        if throughput_too:
            one, one_mem = await throughput(db, url, 1, 8, window)
            two, two_mem = await throughput(db, url, 2, 8, window)
        else:
            one = one_mem = two = two_mem = [float("nan")] * 2
        async with db.session() as s:
            rows = await s.scalar(select(func.count()).select_from(Execution))
        fleet = Bot.name.notlike("holder%")
        async with db.sessions.begin() as s:  # first the exits alone: the fleet rests
            await s.execute(update(Bot).where(fleet).values(status="inactive"))
        alone, _ = await latency(db, url, 100, 0, "alone", fleet="none", batch=batch)
        loads = {"alone": os.getloadavg()[0]}
        async with db.sessions.begin() as s:
            await s.execute(update(Bot).where(fleet).values(status="active"))
        singles, bursts = await latency(
            db,
            url,
            100,
            30,
            "fleet in its own process",
            fleet="spawned",
            batch=batch,
            fleet_nice=fleet_nice,
        )
        loads["spawned"] = os.getloadavg()[0]
        old_singles, old_bursts = await latency(
            db, url, 100, 30, "fleet in the same loop", fleet="same loop", batch=batch
        )
        loads["same loop"] = os.getloadavg()[0]
        cpus = os.cpu_count()
        print(
            f"\nBlockbotX engine ({cpus} CPU(s), PostgreSQL on the same machine; exits "
            f"{'batched' if batch else 'one by one'}; load average after each latency run: "
            f"holders only {loads['alone']:.1f}, fleet spawned {loads['spawned']:.1f}, "
            f"same loop {loads['same loop']:.1f})\n"
        )
        table = [
            ("cycles/s, 1 process (1,000 bots, all persisted)", f"{one[0]:,.0f}", ">= 5,000"),
            ("cycles/s, 2 processes: total", f"{sum(two):,.0f}", ""),
            *(
                (f"cycles/s, 2 processes: process {i}", f"{r:,.0f}", "")
                for i, r in enumerate(two, 1)
            ),
            ("peak RSS of an engine process (MB), 1 process", f"{one_mem[0]:,.0f}", "<= 300"),
            ("peak RSS of an engine process (MB), 2 processes", f"{max(two_mem):,.0f}", "<= 300"),
            ("tick to stop-loss close p50 (ms), holders only", f"{pct(alone, 0.5):.1f}", ""),
            ("tick to stop-loss close p99 (ms), holders only", f"{pct(alone, 0.99):.1f}", "<= 50"),
            (f"exits-only process, 1,000 bots cycling in an engine (nice {fleet_nice})", "", ""),
            ("  tick to stop-loss close: p50", f"{pct(singles, 0.5):.1f}", ""),
            ("  tick to stop-loss close: p99", f"{pct(singles, 0.99):.1f}", "<= 20"),
            (f"  {len(bursts)} stops hit by one tick: p50", f"{pct(bursts, 0.5):.1f}", ""),
            (f"  {len(bursts)} stops hit by one tick: p99", f"{pct(bursts, 0.99):.1f}", "<= 100"),
            ("before: exits and 1,000 bots in one event loop", "", ""),
            ("  tick to stop-loss close: p50", f"{pct(old_singles, 0.5):.1f}", ""),
            ("  tick to stop-loss close: p99", f"{pct(old_singles, 0.99):.1f}", "<= 20"),
            (f"  {len(old_bursts)} stops hit by one tick: p50", f"{pct(old_bursts, 0.5):.1f}", ""),
            (f"  {len(old_bursts)} stops hit by one tick: p99",
             f"{pct(old_bursts, 0.99):.1f}", "<= 100"),
        ]  # fmt: skip
        print(f"{'measure':<52}{'figure':>12}{'target':>12}")
        for name, figure, target in table:
            print(f"{name:<52}{figure:>12}{target:>12}")
        print(
            f"\n({len(alone)} + {len(singles)} + {len(old_singles)} single closes measured; "
            f"{rows:,} executions rows written by the throughput runs)"
        )
        if batch:
            for tag, (statements, batches, exits) in STATEMENTS.items():
                print(
                    f"batched exits ({tag}): {exits} exits in {batches} batches, {statements} "
                    f"statements ({statements / max(exits, 1):.1f} per exit, "
                    f"{statements / max(batches, 1):.1f} per batch)"
                )
        for tag, longest in GC_PAUSES.items():
            print(f"longest garbage collection in the exits' process ({tag}): {longest:.1f} ms")
        for tag, batches in BATCH_CPU.items():  # unlike wall time, hardly load-dependent
            ones = [ms for n, ms in batches if n == 1]
            largest = max(batches, default=(0, float("nan")))
            print(
                f"CPU of a batch in the exits-only process ({tag}): one exit p50 "
                f"{pct(ones, 0.5):.1f} ms, p99 {pct(ones, 0.99):.1f} ms ({len(ones)} batches); "
                f"the largest batch, {largest[0]} exits: {largest[1]:.1f} ms"
            )
        for tag, trace in TRACES.items():
            if tag in BATCH_CPU:  # the exits-only runs
                print_trace(tag, *trace)
    finally:
        await db.dispose()
        await pg.drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bots", type=int, default=1000)
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument(
        "--latency-only", action="store_true", help="skip the throughput runs (exits only)"
    )
    parser.add_argument(
        "--one-by-one", action="store_true", help="exits one position per transaction (before)"
    )
    parser.add_argument(
        "--burst-ab",
        type=int,
        default=0,
        metavar="N",
        help="only: N stops on one tick, closed together vs one by one, alternating",
    )
    parser.add_argument(
        "--fleet-nice",
        type=int,
        default=0,
        metavar="N",
        help="the spawned fleet engine's BLOCKBOTX_ENGINE_NICE (docs/engine.md: 5 beside an "
        "exits process)",
    )
    args = parser.parse_args()
    asyncio.run(
        main(
            args.bots,
            args.window,
            throughput_too=not args.latency_only,
            batch=not args.one_by_one,
            burst=args.burst_ab,
            fleet_nice=args.fleet_nice,
        )
    )
