"""The bots service against PostgreSQL: validation, wallets, ownership, lists, lifecycle."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.brokers.paper import PaperBroker
from core.brokers.types import OrderRequest, OrderType, Side
from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import Bot, BotBalance, BotWallet
from core.db.models.notifications import Notification
from core.db.models.trading import ExchangeConnection, Order, Position
from core.engine.venues import Markets
from core.errors import Conflict, InvalidInput, NotFound
from core.events import bus
from core.ledger.orders import OrderDesk
from core.ledger.wallets import bot_wallet, manual_wallet
from core.market.catalog import sync_markets
from core.services import bots as service
from core.services.bots import BotSpec, BotUpdate
from tests.engine.support import START
from tests.service_users import add_user

SMA = {
    "symbol": "BTC/USDT",
    "timeframe": "1m",
    "indicator": {"name": "sma_cross", "fast": 5, "slow": 12},
}


def spec(**overrides) -> BotSpec:
    fields = {
        "name": "Trend",
        "type": "signal",
        "config": SMA,
        "risk_settings": {"stop_loss_percent": 2},
    }
    return BotSpec(**(fields | overrides))


async def count(db: Database, model) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def add_connection(db: Database, user_id: str, permissions=("read", "trade")) -> str:
    async with db.sessions.begin() as s:
        row = ExchangeConnection(
            user_id=user_id,
            exchange="binance",
            encrypted_api_key="x",
            encrypted_secret_key="y",
            permissions=list(permissions),
            is_testnet=True,
        )
        s.add(row)
        await s.flush()
        return row.id


async def test_create_stores_validated_bot_wallet_notification_and_event(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    clock = FrozenClock(START)
    sub = bus.subscribe(user_id=alice.user_id, kinds={"bot"})
    try:
        async with db.sessions.begin() as s:
            view = await service.create_bot(
                s, alice, spec(initial_balance=D("2500"), description=" watch it "), clock=clock
            )
        event = sub.queue.get_nowait()
    finally:
        sub.close()
    assert event.data == {"bot_id": view.id, "status": "inactive", "action": "created"}
    assert (view.status, view.type, view.symbol, view.paper_trading) == (
        "inactive",
        "signal",
        "BTC/USDT",
        True,
    )
    assert view.description == "watch it"
    assert view.config["indicator"] == {"name": "sma_cross", "fast": 5, "slow": 12}
    assert view.config["min_confidence"] == 0  # defaults are stored: what runs is explicit
    assert view.risk_settings == {"stop_loss_percent": "2"}
    async with db.session() as s:
        wallet = await bot_wallet(s, view.id, "simulation")
        cash = await s.scalar(select(BotBalance.amount).where(BotBalance.wallet_id == wallet.id))
        notes = (
            await s.scalars(select(Notification).where(Notification.user_id == alice.user_id))
        ).all()
    assert (wallet.initial_balance, cash) == (D("2500"), D("2500"))
    assert {n.type.value for n in notes} == {"BOT_CREATED"}
    assert notes[0].created_at == START


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"name": "  "}, "name", "needs a name"),
        ({"type": "manual"}, "type", "Choose a bot type"),
        ({"type": "martingale"}, "type", "Unknown bot type"),
        (
            {"config": {**SMA, "indicator": {"name": "sma_cross", "fast": 30, "slow": 20}}},
            "config.indicator.sma_cross",
            "fast (30) must be smaller",
        ),
        (
            {"config": {**SMA, "symbol": "XRP/USDT"}},
            "config.symbol",
            "paper market has no XRP/USDT",
        ),
        ({"config": {**SMA, "timeframe": "2h"}}, "timeframe", "Unknown timeframe"),
        (
            {"risk_settings": {"stop_loss_percent": 150}},
            "risk_settings.stop_loss_percent",
            "less than 100",
        ),
        ({"initial_balance": 0.5}, "initial_balance", "not a float"),
        ({"initial_balance": D("-1")}, "initial_balance", "positive"),
        ({"paper_trading": False}, "exchange_connection_id", "needs one of your exchange"),
        ({"exchange_connection_id": "conn"}, "exchange_connection_id", "leave the exchange"),
    ],
)
async def test_bad_input_is_a_clear_error_and_writes_nothing(
    db, overrides, field, fragment
) -> None:
    alice = await add_user(db, "alice@example.com")
    with pytest.raises(InvalidInput) as caught:
        async with db.sessions.begin() as s:
            await service.create_bot(s, alice, spec(**overrides))
    assert fragment in str(caught.value)
    assert caught.value.field == field
    assert await count(db, Bot) == 0
    assert await count(db, BotWallet) == 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    config=st.dictionaries(
        st.sampled_from(["symbol", "timeframe", "quote_amount", "levels", "max_buys", "bogus"]),
        st.one_of(
            st.integers(-5, 5), st.text(max_size=6), st.none(), st.lists(st.integers(), max_size=2)
        ),
        min_size=1,
    )
)
async def test_random_dca_configs_never_crash(db: Database, config) -> None:
    alice = await add_user(db, f"p{abs(hash(str(config)))}@example.com")
    before = await count(db, Bot)
    try:
        async with db.sessions.begin() as s:
            await service.create_bot(s, alice, spec(type="dca", config=config, risk_settings={}))
    except InvalidInput as exc:
        assert str(exc)
        assert await count(db, Bot) == before
    else:
        assert await count(db, Bot) == before + 1


async def test_live_bot_needs_own_trading_connection(db: Database) -> None:
    alice = await add_user(db, "alice@example.com", plan="pro")  # live trading needs a plan
    bob = await add_user(db, "bob@example.com")
    bobs = await add_connection(db, bob.user_id)
    readonly = await add_connection(db, alice.user_id, ("read",))
    with pytest.raises(NotFound):
        async with db.sessions.begin() as s:
            await service.create_bot(
                s, alice, spec(paper_trading=False, exchange_connection_id=bobs)
            )
    with pytest.raises(Conflict, match="read-only"):
        async with db.sessions.begin() as s:
            await service.create_bot(
                s, alice, spec(paper_trading=False, exchange_connection_id=readonly)
            )
    async with db.sessions.begin() as s:
        (await s.get(ExchangeConnection, readonly)).permissions = ["read", "trade"]
    async with db.sessions.begin() as s:
        view = await service.create_bot(
            s, alice, spec(paper_trading=False, exchange_connection_id=readonly)
        )
    async with db.session() as s:
        wallets = {
            w.wallet_type: w
            for w in (await s.scalars(select(BotWallet).where(BotWallet.bot_id == view.id)))
        }
    assert set(wallets) == {"simulation", "live"}
    assert wallets["live"].exchange_connection_id == readonly
    assert wallets["live"].initial_balance == 0


async def test_other_users_bots_are_not_found_everywhere(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    bob = await add_user(db, "bob@example.com")
    async with db.sessions.begin() as s:
        bot = await service.create_bot(s, alice, spec())
    calls = [
        lambda s: service.get_bot(s, bob, bot.id),
        lambda s: service.update_bot(s, bob, bot.id, BotUpdate(name="mine")),
        lambda s: service.delete_bot(s, bob, bot.id),
        lambda s: service.start_bot(s, bob, bot.id),
        lambda s: service.pause_bot(s, bob, bot.id),
        lambda s: service.resume_bot(s, bob, bot.id),
        lambda s: service.stop_bot(s, bob, bot.id),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            async with db.sessions.begin() as s:
                await call(s)
    async with db.session() as s:
        assert await service.list_bots(s, bob) == []
        assert (await s.get(Bot, bot.id)).name == "Trend"


async def test_lifecycle_transitions_and_notifications(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    clock = FrozenClock(START)

    async def run(fn, *args, **kwargs):
        if fn is not service.delete_bot:
            kwargs["clock"] = clock
        clock.advance(seconds=1)
        async with db.sessions.begin() as s:
            return await fn(s, alice, *args, **kwargs)

    bot = await run(service.create_bot, spec())
    with pytest.raises(Conflict, match="Only a running bot"):
        await run(service.pause_bot, bot.id)
    assert (await run(service.start_bot, bot.id)).status == "active"
    with pytest.raises(Conflict, match="already running"):
        await run(service.start_bot, bot.id)
    assert (await run(service.pause_bot, bot.id)).status == "paused"
    resumed = await run(service.resume_bot, bot.id)
    assert resumed.status == "active"
    assert resumed.started_at == START + timedelta(seconds=3)  # resuming keeps the start time
    with pytest.raises(Conflict, match="Stop the bot"):
        await run(service.delete_bot, bot.id)
    stopped = await run(service.stop_bot, bot.id)
    assert (stopped.bot.status, stopped.closed_positions) == ("inactive", ())
    with pytest.raises(Conflict, match="already stopped"):
        await run(service.stop_bot, bot.id)
    async with db.session() as s:
        rows = (
            await s.execute(
                select(Notification.type, Notification.title)
                .where(Notification.channel == "IN_APP")
                .order_by(Notification.created_at, Notification.id)
            )
        ).all()
    assert [(t.value, title.split(":")[0]) for t, title in rows] == [
        ("BOT_CREATED", "Bot created"),
        ("BOT_STARTED", "Bot started"),
        ("BOT_STOPPED", "Bot paused"),
        ("BOT_STARTED", "Bot resumed"),
        ("BOT_STOPPED", "Bot stopped"),
    ]
    await run(service.delete_bot, bot.id)
    assert await count(db, Bot) == 0


async def test_update_validates_and_resets_strategy_state(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    async with db.sessions.begin() as s:
        bot = await service.create_bot(s, alice, spec())
        row = await s.get(Bot, bot.id)
        row.engine_state = {"candle": 1}
    with pytest.raises(InvalidInput, match=r"(?i)slow"):
        async with db.sessions.begin() as s:
            await service.update_bot(
                s,
                alice,
                bot.id,
                BotUpdate(config={**SMA, "indicator": {"name": "sma_cross", "slow": 1}}),
            )
    async with db.sessions.begin() as s:
        view = await service.update_bot(
            s,
            alice,
            bot.id,
            BotUpdate(
                name="Faster", config={**SMA, "indicator": {"name": "ema_cross"}}, risk_settings={}
            ),
        )
    assert (view.name, view.config["indicator"]["name"], view.risk_settings) == (
        "Faster",
        "ema_cross",
        {},
    )
    async with db.session() as s:
        assert (await s.get(Bot, bot.id)).engine_state is None


async def test_list_filters_sorts_skips_manual_and_reports_pnl(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    clock = FrozenClock(START)
    markets = Markets.simulated(clock=clock, seed=7)
    async with db.sessions.begin() as s:
        a = await service.create_bot(s, alice, spec(name="Alpha"))
        b = await service.create_bot(
            s, alice, spec(name="Beta", type="dca", config={"symbol": "ETH/USDT"}, risk_settings={})
        )
        await service.start_bot(s, alice, b.id)
        await manual_wallet(s, alice.user_id)  # a hidden manual bot: never listed
        pairs = await sync_markets(s, markets.paper_hub().feed)
        wallet = await bot_wallet(s, a.id, "simulation")
    desk = OrderDesk(clock=clock)
    broker = PaperBroker(markets.paper_hub(), clock=clock)
    async with db.sessions.begin() as s:
        await desk.place_paper(
            s,
            broker,
            wallet=wallet,
            pair=pairs["BTC/USDT"],
            request=OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, D("0.01")),
        )
    async with db.session() as s:
        every = await service.list_bots(s, alice, sort="name", descending=False)
        assert [r.name for r in every] == ["Alpha", "Beta"]
        alpha = every[0]
        # one buy: the P&L is minus the fee plus the unrealised change (none yet, marked at fill)
        position = await s.scalar(select(Position).where(Position.bot_id == a.id))
        assert alpha.pnl == position.realized_pnl - position.fees_paid + position.unrealized_pnl
        assert alpha.pnl < 0 and alpha.open_positions == 1 and alpha.win_rate is None
        assert alpha.pnl_percent == (alpha.pnl * 100 / D("10000")).quantize(D("0.01"))
        assert [r.name for r in await service.list_bots(s, alice, status="active")] == ["Beta"]
        assert [r.name for r in await service.list_bots(s, alice, type="signal")] == ["Alpha"]
        assert [r.name for r in await service.list_bots(s, alice, symbol="eth/usdt")] == ["Beta"]
        assert [r.name for r in await service.list_bots(s, alice, search="alp")] == ["Alpha"]
        assert [r.name for r in await service.list_bots(s, alice, sort="pnl")] == ["Beta", "Alpha"]
        with pytest.raises(InvalidInput, match="Sort by"):
            await service.list_bots(s, alice, sort="magic")
        detail = await service.get_bot(s, alice, a.id)
    assert [p.symbol for p in detail.open_positions] == ["BTC/USDT"]
    assert detail.wallets[0].wallet_type == "simulation"
    assert detail.performance is None and detail.recent_executions == () and detail.backtests == ()


async def test_stop_with_close_sells_positions_and_cancels_orders(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    clock = FrozenClock(START)
    markets = Markets.simulated(clock=clock, seed=7)
    async with db.sessions.begin() as s:
        bot = await service.create_bot(s, alice, spec())
        await service.start_bot(s, alice, bot.id, clock=clock)
        pairs = await sync_markets(s, markets.paper_hub().feed)
        wallet = await bot_wallet(s, bot.id, "simulation")
    desk = OrderDesk(clock=clock)
    broker = PaperBroker(markets.paper_hub(), clock=clock)
    price = (await markets.paper_hub().ticker("BTC/USDT")).last
    async with db.sessions.begin() as s:
        await desk.place_paper(
            s,
            broker,
            wallet=wallet,
            pair=pairs["BTC/USDT"],
            request=OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, D("0.01")),
        )
        await desk.place_paper(
            s,
            broker,
            wallet=wallet,
            pair=pairs["BTC/USDT"],
            request=OrderRequest(
                "BTC/USDT", Side.BUY, OrderType.LIMIT, D("0.01"), price=price * D("0.5")
            ),
        )
    with pytest.raises(InvalidInput, match="market prices"):
        async with db.sessions.begin() as s:
            await service.stop_bot(s, alice, bot.id, close_positions=True)
    async with db.sessions.begin() as s:
        result = await service.stop_bot(
            s, alice, bot.id, close_positions=True, markets=markets, clock=clock
        )
    assert len(result.closed_positions) == 1 and len(result.cancelled_orders) == 1
    assert result.failures == ()
    async with db.session() as s:
        position = await s.get(Position, result.closed_positions[0])
        resting = await s.get(Order, result.cancelled_orders[0])
        balances = {
            r.asset: r
            for r in await s.scalars(select(BotBalance).where(BotBalance.wallet_id == wallet.id))
        }
    assert (position.status, position.close_reason) == ("closed", "BOT_STOPPED")
    assert resting.status == "cancelled"
    assert balances["USDT"].locked == 0 and balances["BTC"].amount == 0
    assert result.bot.status == "inactive"
