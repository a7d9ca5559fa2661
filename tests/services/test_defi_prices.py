"""Prices recovered from a portfolio's last valuation (to pre-fill the DeFi forms)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from core.clock import FrozenClock
from core.db.engine import Database
from core.services import defi
from core.services.defi_prices import implied_prices, symbols_of
from tests.service_users import add_user

A = ["0x" + c * 40 for c in "123456"]


async def test_prices_of_the_last_valuation_come_back(db: Database) -> None:
    me = await add_user(db, "ann@example.com")
    clock = FrozenClock()
    prices = {"ETH": D("3000"), "CAKE": D("2.5"), "BNB": D("600")}
    async with db.sessions.begin() as s:
        w = await defi.add_wallet(s, me, address=A[0], chain="ethereum")
        b = await defi.add_wallet(s, me, address=A[1], chain="bsc")
        await defi.open_staking(s, me, w.id, protocol="lido", token_address=A[2],
                                token_symbol="ETH", amount_="2", apy="4", prices=prices,
                                clock=clock)  # fmt: skip
        await defi.open_liquidity(s, me, w.id, protocol="uniswap", pool_address=A[3],
                                  lp_token_address=A[4], lp_token_amount="1", token0_symbol="WETH",
                                  token1_symbol="USDC", token0_amount="1", token1_amount="3000",
                                  prices={"WETH": D("3000")}, clock=clock)  # fmt: skip
        await defi.open_farm(s, me, b.id, protocol="pancakeswap", farm_address=A[5],
                             lp_token_address=A[4], lp_token_amount="5", token0_symbol="CAKE",
                             token1_symbol="USDT", token0_amount="100", token1_amount="250",
                             apy="20", reward_token_symbol="CAKE", prices=prices,
                             clock=clock)  # fmt: skip
        clock.advance(timedelta(days=10))
        moved = {"ETH": D("3300"), "WETH": D("3600"), "CAKE": D("2"), "BNB": D("600")}
        portfolio = await defi.refresh_positions(s, me, moved, clock=clock)
    found = implied_prices(portfolio)
    assert found["ETH"] == D("3300")  # staking: value / (amount + rewards)
    assert found["WETH"] == D("3600")  # balanced pool: half the value per side
    assert found["USDC"] == D("1")
    assert found["CAKE"] == D("2")  # farm against a stablecoin
    assert "BNB" not in found  # nothing holds it
    assert symbols_of(portfolio) == ["CAKE", "ETH", "USDC", "USDT", "WETH"]
