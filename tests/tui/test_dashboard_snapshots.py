"""How the dashboard's screens look: every trading screen at 120x40, the main ones at 80x24.

One template database per run holds the demo account (``blockbotx demo``'s own builder, over
half a day of the simulated market ending at the frozen ``NOW``), made with sequential ids so
ties sort the same every run, and each worker running these tests gets a copy of it; the apps open on it signed in, with the clock frozen at ``NOW``, no engine and
no LISTEN connection, and the cursor blink off. Backtest run times (wall-clock) are pinned.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core import ids
from core.clock import FrozenClock
from core.db import migrate
from core.db.engine import Database
from core.engine import ids as engine_ids
from core.seed import seed_reference_data
from core.services import accounts, fee_tiers
from core.services.actor import Actor, Role
from core.services.remembered import RememberedSession
from tests import pg
from tests.tui.auth_helpers import DEVICE, PASSWORD, make_auth, settle, wait_for
from tests.tui.dash_helpers import NOW, SMALL, WIDE, no_blink
from tui.app import BlockbotXApp
from tui.cli.demo import build_demo
from tui.screens.positions import PositionsScreen

EMAIL = "demo@blockbotx.local"


class _Sequential:
    """Ids in creation order (``d000…1``, ``d000…2``…): the same data, the same order."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def generate(self) -> str:
        return f"d{next(self._n):024d}"


PIN = (
    # the referral code is random
    "UPDATE users SET referral_code = 'DEMO2026'",
    # wall-clock facts of the backtest run
    "UPDATE backtests SET execution_time = 25, created_at = :now,"
    " result = jsonb_set(result, '{execution_time_ms}', '25')",
    # rows written at the same instant (two bots in one slot, the legs of an arbitrage) sort
    # by id, which depends on the order the engine happened to claim them: a millisecond apart,
    # in a fixed order, they sort the same on every run (times are shown to the second)
    *(
        f"UPDATE {table} AS t SET {column} = t.{column} + n.k * interval '1 millisecond'"
        f" FROM (SELECT id, row_number() OVER (PARTITION BY {column} ORDER BY {order}) AS k"
        f" FROM {table}) AS n WHERE n.id = t.id"
        for table, column, order in (
            ("trades", "executed_at", "symbol, side, quantity, price"),
            ("orders", "created_at", "pair_id, side, quantity, price"),
            ("positions", "created_at", "symbol, bot_id, quantity"),
        )
    ),
)


@pytest.fixture(scope="module")
async def demo_url() -> AsyncIterator[str]:
    """A copy of the run's demo database, built once a run (whichever worker comes first)."""
    url = await pg.copy_of("snapshot_demo", build_snapshot_demo, "bbx_snap")
    yield url
    await pg.drop_database(url)


async def build_snapshot_demo(url: str) -> None:
    db = Database(url)
    sequence = _Sequential()
    saved = ids._generator, engine_ids.FastCuid.__call__
    ids._generator = sequence  # type: ignore[assignment]
    engine_ids.FastCuid.__call__ = lambda self: sequence.generate()  # type: ignore[method-assign]
    try:
        await migrate.upgrade(db)
        await seed_reference_data(db)
        await build_demo(db, email=EMAIL, password=PASSWORD, days=0.5, clock=FrozenClock(NOW))
        async with db.sessions.begin() as s:
            # A trader's own fees on Binance (its BNB discount), for the exchanges screen.
            [demo_user] = await s.scalars(
                text("SELECT id FROM users WHERE email = :e"), {"e": EMAIL}
            )
            await fee_tiers.set_fee_tier(
                s, Actor(user_id=demo_user, role=Role.SUPERADMIN), "binance",
                taker_percent="0.075", maker_percent="0.075", clock=FrozenClock(NOW),
            )  # fmt: skip
            for statement in PIN:
                await s.execute(text(statement), {"now": NOW} if ":now" in statement else {})
    finally:
        ids._generator, engine_ids.FastCuid.__call__ = saved  # type: ignore[method-assign]
        await db.dispose()


def signed_in(url: str, tmp: Path) -> BlockbotXApp:
    auth = make_auth(FrozenClock(NOW))

    async def login() -> str:
        db = Database(url)
        try:
            step = await accounts.login(
                db, email=EMAIL, password=PASSWORD, device=DEVICE, auth=auth
            )
            return step.session.refresh_token
        finally:
            await db.dispose()

    token = asyncio.run(login())
    app = BlockbotXApp(
        Database(url),
        auth=auth,
        device=DEVICE,
        remembered=RememberedSession(url, directory=tmp / "sessions", use_keyring=False),
        engine=False,
        listen=False,
    )
    app.remembered.save(token)
    return app


def keys(*pressed: str, until=None):  # type: ignore[no-untyped-def]
    """Press ``pressed``, then wait for ``until(app)`` (a live tick, say) when given."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
        if until is not None:
            await wait_for(pilot, lambda: until(pilot.app), what="the screen ready")
        no_blink(pilot.app)

    return run_before


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
def test_overview(demo_url: str, tmp_path: Path, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=size, run_before=keys())


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
def test_bots(demo_url: str, tmp_path: Path, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=size, run_before=keys("2"))


def test_bot_detail(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    run = keys("2", "j", "enter")  # the signal bot, second in the list
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=run)


def test_bot_form(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=keys("2", "n")
    )


def test_bot_form_small(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    """At 80×24 the first frame has none of the settings rows (they are below the fold): once
    laid, the form is the same."""
    assert snap_compare(
        signed_in(demo_url, tmp_path), terminal_size=SMALL, run_before=keys("2", "n")
    )


def test_stop_bot_dialog(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=keys("2", "x")
    )


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
def test_positions(demo_url: str, tmp_path: Path, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    def ticked(app: BlockbotXApp) -> bool:  # the screen is up (it may come after "3" settles)
        return isinstance(app.screen, PositionsScreen) and bool(app.screen.prices)

    run = keys("3", until=ticked)  # one live tick
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=size, run_before=run)


def test_closed_positions(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=keys("3", "x")
    )


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
def test_trades(demo_url: str, tmp_path: Path, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=size, run_before=keys("4"))


def typed_into(screen_key: str, *opened: str, field: str, text: str, then: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    """Open a screen (and a dialog), enter ``field`` as a user does, type ``text`` key by key."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await keys(screen_key, *opened)(pilot)
        pilot.app.screen.query_one(field).focus()
        await pilot.press(*text, *then)
        await settle(pilot)
        no_blink(pilot.app)

    return run_before


def test_order_confirm(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    run = typed_into("5", field="#quantity", text="0.02", then=("enter",))
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=run)


def test_bot_chart(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    """The signal bot's candles on the simulated market with its entries and exits."""
    from textual.widgets import TabbedContent

    from tui.widgets.candles import CandleChart

    opened = keys("2", "j", "enter")

    async def run(pilot) -> None:  # type: ignore[no-untyped-def]
        await opened(pilot)
        pilot.app.screen.query_one(TabbedContent).active = "tab-chart"
        chart = pilot.app.screen.query_one(CandleChart)
        await wait_for(pilot, lambda: chart._candles and chart._marks, what="candles and marks")
        await settle(pilot)

    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=run)


def test_backtests(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=keys("6"))


def test_backtest_report(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    run = keys("6", "enter")  # the past run
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=run)


def test_exchanges_add(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    run = typed_into("7", "n", field="#api-key", text="AbCd12345678")
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=run)


def test_help(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    run = keys("3", "question_mark")
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=run)


def test_exchanges(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=keys("7"))


@pytest.mark.parametrize("size", [WIDE, SMALL], ids=["120x40", "80x24"])
def test_exchanges_fee_tier(demo_url: str, tmp_path: Path, snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    """The fee-tier dialog opened on the demo's Binance tier (its row focused: its figures)."""
    run = keys("7", "tab", "f")
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=size, run_before=run)


def test_order(demo_url: str, tmp_path: Path, snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=keys("5"))


@pytest.mark.parametrize("key", ["f7", "f8", "f9"], ids=["marketplace", "plans", "referrals"])
def test_commerce(demo_url: str, tmp_path: Path, snap_compare, key) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(signed_in(demo_url, tmp_path), terminal_size=WIDE, run_before=keys(key))
