"""Exchange connections: vault-only keys, masked display, read/trade only, owner-only access."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import Bot, BotWallet
from core.db.models.trading import ExchangeConnection
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.market.hub import Backoff
from core.security.vault import get_vault
from core.services import bots, exchanges, trading
from core.services.actor import Role
from core.services.bots import BotSpec
from tests.fake_exchange import Failure, FakeBinance, exchange_factory
from tests.ledger.support import START
from tests.service_users import add_user

KEY, SECRET = "AbCdEfGh12345678", "s3cr3t-s3cr3t-s3cr3t"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBinance]:
    async with FakeBinance(hang_seconds=2) as server:
        server.add_account(KEY, SECRET, USDT=5000, BTC="0.5")
        yield server


def context(fake: FakeBinance, clock: FrozenClock) -> trading.TradingContext:
    return trading.TradingContext.simulated(
        seed=7,
        clock=clock,
        exchanges=exchange_factory(fake, timeout_ms=300),
        retry=Backoff(base=0.01, cap=0.02),
    )


async def test_keys_are_stored_only_encrypted_and_shown_masked(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    view = await exchanges.add_connection(
        db,
        alice,
        exchange="Binance",
        api_key=f"  {KEY} ",
        secret=SECRET,
        permissions=["trade"],
        label=" main ",
    )
    assert (
        view.api_key_masked == "AbCd••••••••" and KEY not in repr(view) and SECRET not in repr(view)
    )
    assert (view.exchange, view.venue, view.label, view.permissions) == (
        "binance",
        "Binance",
        "main",
        ("read", "trade"),
    )
    assert (
        view.is_active
        and not view.is_testnet
        and view.last_used is None
        and not view.has_passphrase
    )
    async with db.session() as s:
        row = await s.scalar(select(ExchangeConnection))
    assert row is not None
    for stored in (row.encrypted_api_key, row.encrypted_secret_key):
        assert stored.startswith("v1:") and KEY not in stored and SECRET not in stored
    vault = get_vault()
    assert (
        vault.decrypt(
            row.encrypted_api_key,
            table="exchange_connections",
            owner_id=alice.user_id,
            field="api_key",
        )
        == KEY
    )
    assert (
        vault.decrypt(
            row.encrypted_secret_key,
            table="exchange_connections",
            owner_id=alice.user_id,
            field="secret_key",
        )
        == SECRET
    )
    assert [c.id for c in await exchanges.list_connections(db, alice)] == [view.id]


async def test_bad_input_is_refused_and_nothing_is_stored(db: Database) -> None:
    alice = await add_user(db, "alice@example.com")
    cases = [
        ({"exchange": "mtgox"}, "not an exchange BlockbotX can trade on"),
        ({"exchange": "hyperliquid"}, "Private key, Wallet address; BlockbotX connections"),
        ({"exchange": "kraken", "testnet": True}, "Kraken has no testnet"),
        ({"exchange": "okx"}, "passphrase"),
        ({"exchange": "kucoin"}, "KuCoin passphrase"),
        ({"passphrase": "pass-phrase"}, "no passphrase"),
        ({"permissions": ["read", "withdraw"]}, "never uses withdrawal"),
        ({"permissions": ["admin"]}, "Unknown permission"),
        ({"api_key": "short"}, "API key must be"),
        ({"api_key": "has a space inside"}, "API key must be"),
        ({"secret": ""}, "API secret must be"),
        ({"label": "x" * 65}, "at most 64"),
    ]
    for override, message in cases:
        fields = {"exchange": "binance", "api_key": KEY, "secret": SECRET} | override
        with pytest.raises(InvalidInput, match=message):
            await exchanges.add_connection(db, alice, **fields)  # type: ignore[arg-type]
    assert await exchanges.list_connections(db, alice) == []
    okx = await exchanges.add_connection(
        db, alice, exchange="okx", api_key=KEY, secret=SECRET, passphrase="Pass-Phrase-1"
    )
    assert okx.has_passphrase and okx.venue == "OKX"
    await exchanges.add_connection(db, alice, exchange="binance", api_key=KEY, secret=SECRET)
    with pytest.raises(Conflict, match="already have a Binance connection"):
        await exchanges.add_connection(db, alice, exchange="binance", api_key=KEY, secret=SECRET)


async def test_test_marks_last_used_and_reports_failures_clearly(
    db: Database, fake: FakeBinance
) -> None:
    clock = FrozenClock(START)
    alice = await add_user(db, "alice@example.com")
    good = await exchanges.add_connection(
        db, alice, exchange="binance", api_key=KEY, secret=SECRET, testnet=True
    )
    result = await exchanges.test_connection(
        db, alice, good.id, factory=exchange_factory(fake), clock=clock
    )
    assert result.ok and result.balances == (("BTC", Decimal("0.5")), ("USDT", Decimal(5000)))
    assert "Binance testnet" in result.message
    assert (await exchanges.get_connection(db, alice, good.id)).last_used == START

    bob = await add_user(db, "bob@example.com")
    wrong = await exchanges.add_connection(
        db, bob, exchange="binance", api_key=KEY, secret="not-the-secret"
    )
    clock.advance(minutes=5)
    failed = await exchanges.test_connection(
        db, bob, wrong.id, factory=exchange_factory(fake), clock=clock
    )
    assert not failed.ok and "rejected the API credentials" in failed.message
    assert (await exchanges.get_connection(db, bob, wrong.id)).last_used is None  # no success

    # An exchange that never answers: a clear message within the time allowed, not used.
    fake.fail(Failure.TIMEOUT, times=5)
    clock.advance(minutes=5)
    silent = await exchanges.test_connection(
        db, alice, good.id, factory=exchange_factory(fake, timeout_ms=60_000), clock=clock,
        timeout=0.5,
    )  # fmt: skip
    assert not silent.ok
    assert silent.message.startswith("Binance testnet did not answer within 0.5 s")
    assert (await exchanges.get_connection(db, alice, good.id)).last_used == START


async def test_disable_read_only_and_remove(db: Database, fake: FakeBinance) -> None:
    clock = FrozenClock(START)
    ctx = context(fake, clock)
    alice = await add_user(db, "alice@example.com", plan="pro")
    conn = await exchanges.add_connection(db, alice, exchange="binance", api_key=KEY, secret=SECRET)
    with pytest.raises(Forbidden, match="read-only"):
        await trading.place_order(
            db,
            alice,
            symbol="BTC/USDT",
            side="buy",
            quantity="0.001",
            connection_id=conn.id,
            ctx=ctx,
        )
    await exchanges.update_connection(
        db, alice, conn.id, permissions=["read", "trade"], label="spot"
    )
    assert (await exchanges.disable_connection(db, alice, conn.id)).is_active is False
    with pytest.raises(Conflict, match="disabled"):
        await trading.place_order(
            db,
            alice,
            symbol="BTC/USDT",
            side="buy",
            quantity="0.001",
            connection_id=conn.id,
            ctx=ctx,
        )
    assert (
        await exchanges.test_connection(db, alice, conn.id, factory=ctx.exchanges)
    ).ok  # still testable
    await exchanges.enable_connection(db, alice, conn.id)
    order = await trading.place_order(
        db, alice, symbol="BTC/USDT", side="buy", quantity="0.001", connection_id=conn.id, ctx=ctx
    )
    assert order.status == "filled" and not order.is_paper
    await exchanges.remove_connection(db, alice, conn.id)
    assert await exchanges.list_connections(db, alice) == []
    async with db.session() as s:
        wallet = await s.scalar(select(BotWallet).where(BotWallet.wallet_type == "live"))
    assert wallet is not None and wallet.exchange_connection_id is None  # history stays, unlinked


async def test_nobody_can_use_see_or_test_another_users_connection(
    db: Database, fake: FakeBinance
) -> None:
    clock = FrozenClock(START)
    ctx = context(fake, clock)
    alice = await add_user(db, "alice@example.com", plan="pro")
    mallory = await add_user(db, "mallory@example.com", plan="pro")
    # admins don't get in either
    admin = await add_user(db, "root@example.com", role=Role.ADMIN, plan="pro")
    conn = await exchanges.add_connection(
        db, alice, exchange="binance", api_key=KEY, secret=SECRET, permissions=["trade"]
    )

    order_args = {
        "symbol": "BTC/USDT",
        "side": "buy",
        "quantity": "0.001",
        "connection_id": conn.id,
        "ctx": ctx,
    }
    attempts = {
        "get": exchanges.get_connection(db, mallory, conn.id),
        "test": exchanges.test_connection(db, mallory, conn.id, factory=ctx.exchanges),
        "disable": exchanges.disable_connection(db, mallory, conn.id),
        "enable": exchanges.enable_connection(db, mallory, conn.id),
        "update": exchanges.update_connection(db, mallory, conn.id, permissions=["read"]),
        "testnet": exchanges.set_testnet(db, mallory, conn.id, True),
        "remove": exchanges.remove_connection(db, mallory, conn.id),
        "place": trading.place_order(db, mallory, **order_args),  # type: ignore[arg-type]
        "estimate": trading.estimate_order(db, mallory, **order_args),  # type: ignore[arg-type]
        "admin place": trading.place_order(db, admin, **order_args),  # type: ignore[arg-type]
    }
    for name, attempt in attempts.items():
        with pytest.raises(NotFound) as caught:
            await attempt
        assert str(caught.value) == f"No exchange connection {conn.id!r}.", name
    # A missing id reads exactly the same: nothing leaks.
    with pytest.raises(NotFound) as missing:
        await exchanges.get_connection(db, mallory, "does-not-exist")
    assert str(missing.value) == "No exchange connection 'does-not-exist'."
    assert await exchanges.list_connections(db, mallory) == []
    # Alice's connection is untouched and was never used.
    view = await exchanges.get_connection(db, alice, conn.id)
    assert view.is_active and view.permissions == ("read", "trade") and view.last_used is None
    assert fake.count("GET", "/api/v3/account") == 0 and fake.orders == {}


async def test_testnet_switch_waits_for_live_bots_to_stop(db: Database) -> None:
    alice = await add_user(db, "alice@example.com", plan="pro")
    conn = await exchanges.add_connection(
        db, alice, exchange="binance", api_key=KEY, secret=SECRET, permissions=["read", "trade"],
        testnet=True,
    )  # fmt: skip
    assert conn.venue == "Binance testnet"
    async with db.sessions.begin() as s:
        bot = await bots.create_bot(s, alice, BotSpec(
            name="Live one", type="dca", paper_trading=False, exchange_connection_id=conn.id,
        ))  # fmt: skip
    async with db.sessions.begin() as s:
        await s.execute(update(Bot).where(Bot.id == bot.id).values(status="active"))
    with pytest.raises(Conflict, match="'Live one' trades live on this connection"):
        await exchanges.set_testnet(db, alice, conn.id, False)
    assert (await exchanges.get_connection(db, alice, conn.id)).is_testnet  # nothing changed

    async with db.sessions.begin() as s:
        await s.execute(update(Bot).where(Bot.id == bot.id).values(status="inactive"))
    real = await exchanges.set_testnet(db, alice, conn.id, False)
    assert (real.is_testnet, real.venue) == (False, "Binance")
    assert (await exchanges.set_testnet(db, alice, conn.id, False)) == real  # already there
    assert (await exchanges.set_testnet(db, alice, conn.id, True)).venue == "Binance testnet"


async def test_keys_the_vault_cannot_open_are_a_clear_refusal(
    db: Database, fake: FakeBinance
) -> None:
    """Keys sealed under another master key (or moved from another row): a ServiceError that
    says what to do, never a raw VaultError, and the connection is left as it was."""
    alice = await add_user(db, "alice@example.com")
    bob = await add_user(db, "bob@example.com")
    conn = await exchanges.add_connection(db, alice, exchange="binance", api_key=KEY, secret=SECRET)
    bobs = await exchanges.add_connection(db, bob, exchange="binance", api_key=KEY, secret=SECRET)
    async with db.sessions.begin() as s:
        stolen = await s.scalar(
            select(ExchangeConnection.encrypted_api_key).where(ExchangeConnection.id == bobs.id)
        )
        await s.execute(
            update(ExchangeConnection)
            .where(ExchangeConnection.id == conn.id)
            .values(encrypted_api_key=stolen)
        )
    with pytest.raises(Conflict, match="can't be decrypted") as refused:
        await exchanges.test_connection(db, alice, conn.id, factory=exchange_factory(fake))
    assert KEY not in str(refused.value) and "master key" in str(refused.value)
    async with db.session() as s:
        row = await s.get(ExchangeConnection, conn.id)
    assert row is not None and row.last_used is None and row.encrypted_api_key == stolen
