"""Wallets and positions through the service: validation, vault, ownership, valuation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.admin import AuditLog
from core.db.models.defi import Wallet
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.security.vault import get_vault
from core.seed import seed_defi_registry
from core.seed.defi import USDC, WETH
from core.services import defi
from core.services.actor import Actor, Role
from tests.service_users import add_user

KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
KEY_ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
POOL = "0xB4e16d0168e52d35CaCD2c6185b44281Ec28C9Dc"  # Uniswap v2 USDC/WETH pair
FARM = "0xc2EdaD668740f1aA35E4D8f227fB8E17dcA888Cd"  # SushiSwap MasterChef


@pytest.fixture
async def bob(db: Database) -> Actor:
    return await add_user(db, "bob@example.com")


@pytest.fixture
async def eve(db: Database) -> Actor:
    return await add_user(db, "eve@example.com")


async def test_add_wallet_checks_and_normalises(db: Database, bob: Actor) -> None:
    async with db.sessions.begin() as s:
        w = await defi.add_wallet(s, bob, address=ADDRESS.lower(), chain="Ethereum", name="Main")
        assert (w.address, w.chain, w.managed) == (ADDRESS, "ethereum", False)
        # the same address may be tracked on another chain, not twice on one
        await defi.add_wallet(s, bob, address=ADDRESS, chain="polygon")
        with pytest.raises(Conflict, match="already track"):
            await defi.add_wallet(
                s, bob, address=ADDRESS.upper().replace("0X", "0x"), chain="ethereum"
            )
        with pytest.raises(InvalidInput, match="checksum"):
            await defi.add_wallet(s, bob, address=ADDRESS.replace("aA", "Aa", 1), chain="bsc")
        with pytest.raises(InvalidInput, match="Unsupported chain 'solana'"):
            await defi.add_wallet(s, bob, address=ADDRESS, chain="solana")
        assert len(await defi.list_wallets(s, bob)) == 2


async def test_managed_wallet_key_lives_only_in_the_vault(db: Database, bob: Actor) -> None:
    async with db.sessions.begin() as s:
        with pytest.raises(InvalidInput, match="does not belong"):
            await defi.add_wallet(s, bob, address=ADDRESS, chain="ethereum", private_key=KEY)
        w = await defi.add_wallet(s, bob, address=None, chain="bsc", private_key=KEY)
    assert w.address == KEY_ADDRESS and w.managed
    assert KEY[2:] not in repr(w)
    async with db.session() as s:
        stored = await s.scalar(select(Wallet.encrypted_key).where(Wallet.id == w.id))
    assert KEY[2:] not in stored and stored.startswith("v1:")
    vault = get_vault()
    assert (
        vault.decrypt(stored, table="wallets", owner_id=bob.user_id, field="encrypted_key")
        == KEY[2:]
    )


async def test_positions_value_rewards_and_impermanent_loss(db: Database, bob: Actor) -> None:
    clock = FrozenClock()
    prices = {"ETH": D(100), "WETH": D(100), "STK": D(2), "SUSHI": D(2)}
    async with db.sessions.begin() as s:
        w = await defi.add_wallet(s, bob, address=ADDRESS, chain="ethereum")
        stake = await defi.open_staking(
            s, bob, w.id, protocol="Lido", token_address=WETH, token_symbol="stk",
            amount_="1000", apy="10", prices=prices, clock=clock,
        )  # fmt: skip
        lp = await defi.open_liquidity(
            s, bob, w.id, protocol="uniswap-v2", pool_address=POOL, lp_token_address=POOL,
            lp_token_amount="10", token0_symbol="WETH", token1_symbol="USDC",
            token0_amount=D(1), token1_amount=D(100), prices=prices, clock=clock,
        )  # fmt: skip
        farm = await defi.open_farm(
            s, bob, w.id, protocol="sushiswap", farm_address=FARM, lp_token_address=POOL,
            lp_token_amount="10", token0_symbol="WETH", token1_symbol="USDC",
            token0_amount="1", token1_amount="100", apy="50", reward_token_symbol="SUSHI",
            prices=prices, clock=clock,
        )  # fmt: skip
    assert stake.value_usd == D(2000) and lp.initial_value_usd == D(200) and farm.value_usd == 200

    # one year later: ETH at 400, STK at 3
    clock.advance(days=365)
    later = {**prices, "WETH": D(400), "STK": D(3)}
    async with db.sessions.begin() as s:
        book = await defi.refresh_positions(s, bob, later, clock=clock)
    (st,), (lq,), (fm,) = book.staking, book.liquidity, book.farms
    assert st.rewards == D(100)  # 1000 · 10 % over a year
    assert st.value_usd == D(3300)  # (1000 + 100) · 3
    assert (lq.token0_amount, lq.token1_amount) == (D("0.5"), D(200))  # √(100/400), √(100·400)
    assert lq.current_value_usd == D(400) and lq.hold_value_usd == D(500)
    assert lq.impermanent_loss == D(100) and lq.impermanent_loss_percent == D(-20)
    # the farm's USD value over the year was priced at refresh (1 WETH at 400 + 100 USDC = 500):
    # 500 · 50 % = 250 USD of rewards = 125 SUSHI at 2
    assert fm.value_usd == D(500) and fm.rewards_earned == D(125)
    assert book.total_value_usd == D(3300) + D(400) + D(500)

    # half a year more at the same prices: staking compounds on 1100
    clock.advance(timedelta(days=182, hours=12))
    async with db.sessions.begin() as s:
        harvested = await defi.harvest_farm(s, bob, farm.id, later, clock=clock)
        closed = await defi.close_position(s, bob, "staking", stake.id, later, clock=clock)
        with pytest.raises(Conflict, match="already completed"):
            await defi.close_position(s, bob, "staking", stake.id, later, clock=clock)
        removed = await defi.close_position(s, bob, "liquidity", lp.id, later, clock=clock)
    # 100 + 1100 · (√1.1 − 1), √1.1 = 1.04880884817015154699145351367993759847…
    # = 100 + 53.68973298716670169059886504793135832… (rounded to 30 places)
    assert closed.status == "completed"
    assert closed.rewards == D("153.689732987166701690598865047931")
    # 125 SUSHI + 500 USD · (√1.5 − 1) / 2 USD, √1.5 = 1.22474487139158904909864203735294569598…
    # = 125 + 56.18621784789726227466050933823642399…
    assert harvested == D("181.186217847897262274660509338236")
    assert removed.status == "removed" and removed.impermanent_loss == D(100)


async def test_bad_position_input_changes_nothing(db: Database, bob: Actor) -> None:
    prices = {"STK": D(2)}
    async with db.sessions.begin() as s:
        w = await defi.add_wallet(s, bob, address=ADDRESS, chain="ethereum")
        base = dict(
            protocol="lido",
            token_address=WETH,
            token_symbol="STK",
            amount_="1",
            apy="5",
            prices=prices,
        )
        for change, message in (
            ({"amount_": 1.5}, "not a float"),
            ({"amount_": "-1"}, "more than zero"),
            ({"amount_": "abc"}, "must be a number"),
            ({"amount_": "NaN"}, "finite"),
            ({"apy": "-2"}, "at least zero"),
            ({"token_symbol": "XYZ"}, "No current price for XYZ"),
            ({"token_address": "0x1"}, "40 hex digits"),
            ({"protocol": " "}, "protocol"),
        ):
            with pytest.raises(InvalidInput, match=message):
                await defi.open_staking(s, bob, w.id, **{**base, **change})
        assert (await defi.portfolio(s, bob)).staking == ()
        await defi.set_wallet_active(s, bob, w.id, False)
        with pytest.raises(Conflict, match="inactive"):
            await defi.open_staking(s, bob, w.id, **base)
        with pytest.raises(InvalidInput, match="kind"):
            await defi.close_position(s, bob, "loan", "x", prices)


async def test_another_users_wallets_and_positions_are_refused(
    db: Database, bob: Actor, eve: Actor
) -> None:
    prices = {"STK": D(2), "WETH": D(100)}
    async with db.sessions.begin() as s:
        w = await defi.add_wallet(s, eve, address=ADDRESS, chain="ethereum")
        p = await defi.open_staking(
            s,
            eve,
            w.id,
            protocol="lido",
            token_address=WETH,
            token_symbol="STK",
            amount_="1",
            apy="5",
            prices=prices,
        )
        f = await defi.open_farm(
            s, eve, w.id, protocol="sushiswap", farm_address=FARM, lp_token_address=POOL,
            lp_token_amount="1", token0_symbol="WETH", token1_symbol="USDC", token0_amount="1",
            token1_amount="100", apy="5", reward_token_symbol=None, prices=prices,
        )  # fmt: skip
    async with db.sessions.begin() as s:
        assert await defi.list_wallets(s, bob) == []
        assert await defi.portfolio(s, bob) == defi.Portfolio((), (), ())
        for call in (
            defi.set_wallet_active(s, bob, w.id, False),
            defi.remove_wallet(s, bob, w.id),
            defi.open_staking(
                s,
                bob,
                w.id,
                protocol="lido",
                token_address=WETH,
                token_symbol="STK",
                amount_="1",
                apy="1",
                prices=prices,
            ),
            defi.close_position(s, bob, "staking", p.id, prices),
            defi.harvest_farm(s, bob, f.id, prices),
        ):
            with pytest.raises(NotFound):
                await call
        refreshed = await defi.refresh_positions(s, bob, prices)
        assert refreshed.staking == ()
        assert len((await defi.portfolio(s, eve)).staking) == 1
        # removing her wallet takes its positions with it
        await defi.remove_wallet(s, eve, w.id)
        assert await defi.portfolio(s, eve) == defi.Portfolio((), (), ())


async def test_registry_seed_is_idempotent_and_pools_are_admin_only(
    db: Database, bob: Actor
) -> None:
    admin = await add_user(db, "admin@example.com", role=Role.ADMIN)
    for _ in range(2):
        async with db.sessions.begin() as s:
            await seed_defi_registry(s)
    async with db.sessions.begin() as s:
        protocols = await defi.list_protocols(s, bob)
        assert {"Uniswap", "Aave", "Lido", "PancakeSwap", "QuickSwap"} <= {
            p.name for p in protocols
        }
        assert len(protocols) == len({p.name for p in protocols})
        assert {p.name for p in await defi.list_protocols(s, bob, chain="bsc")} == {
            "PancakeSwap",
            "Venus",
        }
        assert all(
            p.category == "lending" for p in await defi.list_protocols(s, bob, category="lending")
        )
        pools = await defi.list_pools(s, bob, protocol="uniswap-v2")
        assert [p.pair for p in pools] == ["DAI/WETH", "WETH/USDC", "WETH/USDT"]
        assert pools[1].token0 == WETH and pools[1].token1 == USDC
        with pytest.raises(Forbidden):
            await defi.register_pool(
                s, bob, protocol="sushiswap", chain="ethereum", token0_symbol="DAI",
                token0_address="0x6B175474E89094C44Da98b954EedeAC495271d0F", token1_symbol="USDC", token1_address=USDC,
            )  # fmt: skip
        new = await defi.register_pool(
            s, admin, protocol="SushiSwap", chain="ethereum", token0_symbol="dai",
            token0_address="0x6b175474e89094c44da98b954eedeac495271d0f", token1_symbol="usdc", token1_address=USDC,
        )  # fmt: skip
        assert (new.pair, new.token0) == ("DAI/USDC", "0x6B175474E89094C44Da98b954EedeAC495271d0F")
        with pytest.raises(Conflict):
            await defi.register_pool(
                s, admin, protocol="sushiswap", chain="ethereum", token0_symbol="DAI",
                token0_address="0x6B175474E89094C44Da98b954EedeAC495271d0F", token1_symbol="USDC", token1_address=USDC,
            )  # fmt: skip
        assert (
            await s.scalar(select(AuditLog.action).where(AuditLog.user_id == admin.user_id))
            == "defi_pool_registered"
        )
