"""Real ``blockbotx engine`` processes for the scale-out and resilience tests, and the checks
that every cycle ran once and every trade was booked once."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import distinct, func, select

from core.db.engine import Database
from core.db.models.bots import Bot, Execution
from core.db.models.engine import EngineProcess
from core.db.models.trading import Order, Trade
from core.engine.orders import client_order_id
from core.ledger.wallets import bot_wallet
from tests.ledger.test_identity import check_identity
from tests.waiting import wait_until

FAST = {
    "BLOCKBOTX_ENGINE_CYCLE_SECONDS": "1",
    "BLOCKBOTX_ENGINE_LEASE_SECONDS": "3",
    "BLOCKBOTX_ENGINE_HEARTBEAT_SECONDS": "0.5",
    "BLOCKBOTX_ENGINE_PRICE_POLL_SECONDS": "0.5",
    "BLOCKBOTX_ENGINE_HOUSEKEEPING_SECONDS": "3600",
    "BLOCKBOTX_ENGINE_DELIVER_NOTIFICATIONS": "false",
    "BLOCKBOTX_ENGINE_SHUTDOWN_SECONDS": "3",
}


@dataclass
class Engine:
    process: subprocess.Popen
    log: Path

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(60)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def imported(self) -> set[str]:
        """The modules an engine spawned with ``modules=True`` had imported when it exited."""
        return set(self.output().rsplit("modules: ", 1)[1].strip().split(","))


# ``python -m tui.cli`` that prints, as it exits, every module the process imported.
MODULES_AT_EXIT = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('modules:', ','.join(sorted(sys.modules)), flush=True))\n"
    "from tui.cli import main\n"
    "main()\n"
)


def spawn(url: str, log: Path, *args: str, modules: bool = False, **env: str) -> Engine:
    """``blockbotx engine *args`` logging to ``log``; with ``modules``, its last line lists the
    modules it imported (``imported``)."""
    environment = {**os.environ, **FAST, **env, "DATABASE_URL": url}
    handle = log.open("w")
    command = ["-c", MODULES_AT_EXIT] if modules else ["-m", "tui.cli"]
    process = subprocess.Popen(
        [sys.executable, *command, "engine", *args],
        env=environment,
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    return Engine(process, log)


async def wait_for(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    await wait_until(check, timeout, what, every=0.2)


async def alive_engines(db: Database) -> int:
    async with db.session() as s:
        return int(
            await s.scalar(
                select(func.count())
                .select_from(EngineProcess)
                .where(EngineProcess.stopped_at.is_(None))
            )
            or 0
        )


async def slots_by_bot(db: Database) -> dict[str, list[int]]:
    """Each bot's cycle slots, in order (exit executions left out)."""
    async with db.session() as s:
        keys = (
            await s.scalars(
                select(Execution.execution_id).where(~Execution.execution_id.contains("-exit-"))
            )
        ).all()
    out: dict[str, list[int]] = defaultdict(list)
    for key in keys:
        bot_id, slot = key.rsplit("-", 1)
        out[bot_id].append(int(slot))
    return {bot: sorted(slots) for bot, slots in out.items()}


async def bots_run_after(db: Database, bots: list[str], moment: float) -> int:
    """How many of ``bots`` ran a cycle after ``moment`` (epoch seconds). Counted in SQL: a
    test polls this while 200 bots cycle every second, and reading every execution back on
    each poll made the test's CPU (and the engine's, running on meanwhile) grow with the
    machine's load."""
    after = datetime.fromtimestamp(moment, UTC)
    async with db.session() as s:
        ran = await s.scalar(
            select(func.count(distinct(Execution.bot_id))).where(
                Execution.bot_id.in_(bots), Execution.timestamp > after
            )
        )
    return int(ran or 0)


def gaps(slots: list[int]) -> list[tuple[int, int]]:
    """Missing runs of slots between a bot's first and last cycle."""
    return [(a + 1, b - 1) for a, b in itertools.pairwise(slots) if b - a > 1]


async def assert_books_exact(db: Database) -> int:
    """No cycle wrote twice, every order belongs to one written cycle, every fill was booked
    exactly once, and every wallet balances to the last digit. Returns the number of trades."""
    async with db.session() as s:
        executions = set((await s.scalars(select(Execution.execution_id))).all())
        duplicates = (
            await s.execute(
                select(Execution.bot_id, Execution.execution_id, func.count())
                .group_by(Execution.bot_id, Execution.execution_id)
                .having(func.count() > 1)
            )
        ).all()
        orders = (await s.execute(select(Order.id, Order.client_order_id, Order.status))).all()
        per_order = dict(
            (await s.execute(select(Trade.order_id, func.count()).group_by(Trade.order_id))).all()
        )
        bots = (await s.scalars(select(Bot.id).where(Bot.type != "manual"))).all()
        trades = int(await s.scalar(select(func.count()).select_from(Trade)) or 0)
    assert duplicates == []
    cycle_ids = {client_order_id(key, leg) for key in executions for leg in range(1, 5)}
    for order_id, client_id, status in orders:
        assert client_id in cycle_ids, f"order {client_id} has no written cycle"
        assert per_order.get(order_id, 0) == (1 if status == "filled" else 0)
    for bot_id in bots:
        async with db.session() as s:
            wallet = await bot_wallet(s, bot_id, "simulation")
        await check_identity(db, wallet)
    return trades
