"""DeFi screen: add a wallet (a bad address refused in the form), open a staking position,
revalue it, close it, rename and remove the wallet; snapshots of wallets and liquidity."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from sqlalchemy import select
from textual.widgets import Input, Select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.defi import StakingPosition, Wallet
from core.services import defi
from core.services.actor import Actor
from tests.service_users import add_user
from tests.tui.screen_helpers import NOW, WIDE, ScreenApp, no_blink, seed, settle
from tui.modals.form import FormModal
from tui.screens.defi import DeFiScreen

A = ["0x" + c * 40 for c in "1234567"]
LOWER = "0x52908400098527886e0f7030069857d2e4169ee7"  # all lower case: no checksum to check
MIXED_BAD = "0x52908400098527886E0F7030069857D2E4169eE7"  # one letter's case off the EIP-55 sum


def fill(form: FormModal, **values: str) -> None:
    for name, value in values.items():
        widget = form.query_one(f"#field-{name}")
        if isinstance(widget, Select):
            widget.value = value
        else:
            assert isinstance(widget, Input)
            widget.value = value


async def test_wallet_and_staking_round_trip(db: Database, migrated_url: str) -> None:
    me = await add_user(db, "ann@example.com")
    app = ScreenApp(migrated_url, me, DeFiScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        fill(form, address=MIXED_BAD, name="Ledger")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "checksum" in str(form.query_one("#form-error").render())
        fill(form, address=LOWER)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.query_one("#wallets-table").row_count == 1

        await pilot.press("s", "a")  # staking tab, open a position
        await settle(pilot)
        form = app.screen
        fill(form, protocol="Lido", token_address=A[3], token_symbol="eth", amount="2",
             apy="4", price="")  # fmt: skip
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "No current price for ETH" in str(form.query_one("#form-error").render())
        fill(form, price="3,000")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen.query_one("#staking-table").row_count == 1
        assert "$6,000.00" in str(app.screen.query_one("#summary").render())

        app.clock.advance(timedelta(days=365))
        await pilot.press("r")  # revalue a year later, price pre-filled with the last one
        await settle(pilot)
        form = app.screen
        assert form.query_one("#field-price_ETH", Input).value == "3000"
        fill(form, price_ETH="3500")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # 2 ETH at 4 % for a year: 2.08 ETH at 3,500
        assert "$7,280.00" in str(app.screen.query_one("#summary").render())

        await pilot.press("x")
        await settle(pilot)
        await pilot.press("ctrl+s")  # at the pre-filled price
        await settle(pilot)
        async with db.session() as s:
            position = await s.scalar(select(StakingPosition))
        assert position is not None and position.status == "completed"
        assert position.rewards == D("0.08")

        await pilot.press("w", "e")
        await settle(pilot)
        fill(app.screen, name="Cold storage")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen.query_one("#wallets-table").row_count == 0
    async with db.session() as s:
        assert await s.scalar(select(Wallet)) is None


async def _portfolio(db: Database) -> Actor:
    me = await add_user(db, "ann@example.com", id="ann0000000000000000000001")
    clock = FrozenClock(NOW - timedelta(days=30))
    prices = {"ETH": D("3000"), "WETH": D("3000"), "BNB": D("600"), "CAKE": D("2.5")}

    async def step(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        clock.advance(seconds=1)  # one transaction each: creation order is stable
        async with db.sessions.begin() as s:
            return await fn(s, me, *args, **kwargs)

    w1 = await step(defi.add_wallet, address=A[0], chain="ethereum", name="Ledger main")
    w2 = await step(defi.add_wallet, address=A[1], chain="bsc", name="BSC hot")
    await step(defi.add_wallet, address=A[2], chain="polygon")
    await step(defi.open_staking, w1.id, protocol="Lido", token_address=A[3], token_symbol="ETH",
               amount_="4.5", apy="3.4", prices=prices, clock=clock)  # fmt: skip
    await step(defi.open_farm, w2.id, protocol="PancakeSwap", farm_address=A[4],
               lp_token_address=A[5], lp_token_amount="120", token0_symbol="CAKE",
               token1_symbol="BNB", token0_amount="400", token1_amount="1.6667", apy="24",
               reward_token_symbol="CAKE", prices=prices, clock=clock)  # fmt: skip
    await step(defi.open_liquidity, w1.id, protocol="Uniswap", pool_address=A[6],
               lp_token_address=A[5], lp_token_amount="31.6", token0_symbol="WETH",
               token1_symbol="USDC", token0_amount="1", token1_amount="3000", prices=prices,
               clock=clock)  # fmt: skip
    clock.current = NOW
    moved = dict(prices, ETH=D("3600"), WETH=D("3600"), CAKE=D("2.2"))
    await step(defi.refresh_positions, moved, clock=clock)
    return me


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    no_blink(pilot.app)


def test_wallets_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    me = seed(migrated_url, _portfolio)
    assert snap_compare(
        ScreenApp(migrated_url, me, DeFiScreen), terminal_size=WIDE, run_before=_ready
    )


def test_liquidity_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    me = seed(migrated_url, _portfolio)

    async def liquidity(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("l")
        await _ready(pilot)

    assert snap_compare(
        ScreenApp(migrated_url, me, DeFiScreen), terminal_size=WIDE, run_before=liquidity
    )


def test_farms_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    me = seed(migrated_url, _portfolio)

    async def farms(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("f")
        await _ready(pilot)

    assert snap_compare(
        ScreenApp(migrated_url, me, DeFiScreen), terminal_size=WIDE, run_before=farms
    )
