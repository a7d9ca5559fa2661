"""Polled providers against real local HTTP servers: an ``api`` endpoint and a Telegram Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.signals import Signal
from core.services import signals as service
from core.services.actor import Actor
from core.signals.api_source import SourceError
from core.signals.payload import PayloadError
from core.signals.pollers import MAX_BACKOFF_SECONDS, Poller, Pollers, ProviderGone, backoff_delay
from core.signals.telegram import parse_message
from tests.signals.conftest import start_app
from tests.waiting import wait_until

TOKEN = "123456789:AAE" + "x" * 30
CHAT = -1001234


@dataclass
class FakeFeed:
    """An api provider's endpoint and a Telegram Bot API, recording what they were asked."""

    answers: list[tuple[int, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    offsets: list[str | None] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/feed", self._feed)
        app.router.add_get("/bot{token}/getUpdates", self._updates)
        return app

    async def _feed(self, request: web.Request) -> web.Response:
        self.auth.append(request.headers.get("Authorization"))
        status, document = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(document, str):
            return web.Response(status=status, text=document)
        return web.json_response(document, status=status)

    async def _updates(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "description": "Unauthorized"}, status=401)
        offset = request.query.get("offset")
        self.offsets.append(offset)
        pending = [u for u in self.updates if offset is None or u["update_id"] >= int(offset)]
        return web.json_response({"ok": True, "result": pending})


@pytest.fixture
async def feed() -> AsyncIterator[tuple[FakeFeed, str]]:
    fake = FakeFeed()
    runner, base = await start_app(fake.app())
    yield fake, base
    await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _signals(db: Database) -> list[Signal]:
    async with db.session() as s:
        return list(await s.scalars(select(Signal).order_by(Signal.external_id)))


async def _count(db: Database, n: int) -> bool:
    return len(await _signals(db)) == n


async def _api(db: Database, actor: Actor, base: str, **kwargs: Any) -> str:
    created = await service.create_provider(
        db, actor, name="feed", type="api", url=f"{base}/feed", api_key="secret-1", **kwargs
    )
    return created.info.id


GOOD = [
    {"id": "s1", "symbol": "BTC/USDT", "action": "BUY", "price": "65000.000000000000000001"},
    {"id": "s2", "symbol": "ETH/USDT", "action": "sell", "confidence": 70, "timestamp": 1767265200},
]


def test_backoff_doubles_up_to_a_cap_and_resets() -> None:
    assert [backoff_delay(60, n) for n in range(5)] == [60, 120, 240, 480, 900]
    assert backoff_delay(60, 100) == MAX_BACKOFF_SECONDS
    assert backoff_delay(3600, 3) == 3600  # a slow provider is never polled faster on errors


async def test_an_api_provider_is_polled_and_each_signal_stored_once(
    db: Database, alice: Actor, feed: tuple[FakeFeed, str], http: aiohttp.ClientSession
) -> None:
    fake, base = feed
    fake.answers = [
        (
            200,
            [
                *GOOD,
                {"id": "bad", "symbol": "BTC", "action": "BUY"},
                {"symbol": "BTC/USDT", "action": "BUY"},
            ],
        )
    ]
    clock = FrozenClock()
    provider_id = await _api(db, alice, base)
    poller = Poller(db, http, provider_id, clock=clock)
    outcome = await poller.poll_once()
    assert (outcome.stored, outcome.duplicates) == (2, 0)
    assert len(outcome.rejected) == 2 and "signals[2].symbol" in outcome.rejected[0]
    assert "signals[3].id: is required" in outcome.rejected[1]
    assert fake.auth == ["Bearer secret-1"]
    s1, s2 = await _signals(db)
    assert (s1.external_id, s1.price, s1.created_at) == (
        "s1",
        Decimal("65000.000000000000000001"),
        clock.now(),
    )
    assert (s2.action, s2.confidence) == ("SELL", Decimal(70))
    assert s2.created_at == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)  # the provider's timestamp
    again = await poller.poll_once()
    assert (again.stored, again.duplicates) == (0, 2)
    assert len(await _signals(db)) == 2


async def test_an_object_answer_and_a_custom_auth_header(
    db: Database, alice: Actor, feed: tuple[FakeFeed, str], http: aiohttp.ClientSession
) -> None:
    fake, base = feed
    fake.answers = [(200, {"signals": GOOD[:1]})]
    provider_id = await _api(
        db, alice, base, config={"auth_header": "Authorization", "auth_scheme": "Token"}
    )
    assert (await Poller(db, http, provider_id).poll_once()).stored == 1
    assert fake.auth == ["Token secret-1"]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((500, {"error": "down"}), "HTTP 500"),
        ((200, "<html>not json</html>"), "JSON"),
        ((200, {"data": []}), "JSON list"),
    ],
)
async def test_a_failed_poll_is_a_source_error_without_the_key(
    db: Database,
    alice: Actor,
    feed: tuple[FakeFeed, str],
    http: aiohttp.ClientSession,
    answer: tuple[int, Any],
    message: str,
) -> None:
    fake, base = feed
    fake.answers = [answer]
    provider_id = await _api(db, alice, base)
    with pytest.raises(SourceError) as caught:
        await Poller(db, http, provider_id).poll_once()
    assert message in str(caught.value) and "secret-1" not in str(caught.value)
    assert await _signals(db) == []


async def test_an_unreachable_provider_is_a_source_error(
    db: Database, alice: Actor, http: aiohttp.ClientSession
) -> None:
    provider_id = await _api(db, alice, "http://127.0.0.1:9")
    with pytest.raises(SourceError):
        await Poller(db, http, provider_id).poll_once()


async def test_the_poll_loop_backs_off_on_errors_and_stops_for_a_disabled_provider(
    db: Database, alice: Actor, feed: tuple[FakeFeed, str], http: aiohttp.ClientSession
) -> None:
    fake, base = feed
    fake.answers = [(503, {}), (502, {}), (200, GOOD)]
    provider_id = await _api(db, alice, base, config={"poll_interval_seconds": 10})
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:  # after two failures and a success, the user disables it
            await service.set_provider_active(db, alice, provider_id, False)

    poller = Poller(db, http, provider_id)
    await asyncio.wait_for(poller.run(pause, asyncio.Event()), timeout=10)
    assert pauses == [20, 40, 10]
    assert len(await _signals(db)) == 2
    with pytest.raises(ProviderGone):
        await poller.poll_once()


async def test_pollers_follow_the_providers_table_and_stop_cleanly(
    db: Database, alice: Actor, feed: tuple[FakeFeed, str]
) -> None:
    fake, base = feed
    fake.answers = [(200, GOOD)]
    await _api(db, alice, base)
    pollers = Pollers(db, refresh_seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(pollers.run(stop))
    await wait_until(lambda: _count(db, 2), what="both signals")
    assert len(await _signals(db)) == 2 and len(pollers.tasks) == 1
    stop.set()
    await asyncio.wait_for(task, timeout=60)
    assert pollers.tasks == {}


def test_the_telegram_message_format() -> None:
    signal = parse_message(
        "buy btc/usdt price=65000.5 SL=64000 tp=68000.25 conf=80\nBreakout\nabove range",
        timestamp=1767268800,
    )
    assert signal is not None
    assert (signal.action, signal.symbol) == ("BUY", "BTC/USDT")
    assert (signal.price, signal.stop_loss, signal.take_profit, signal.confidence) == (
        Decimal("65000.5"),
        Decimal(64000),
        Decimal("68000.25"),
        Decimal(80),
    )
    assert signal.reason == "Breakout\nabove range"
    assert signal.timestamp == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert parse_message("SELL ETH/USDT").action == "SELL"  # type: ignore[union-attr]
    for chatter in ("", "hello", "buying soon", "\n\nsell-side news"):
        assert parse_message(chatter) is None, chatter
    for bad in (
        "BUY",
        "BUY BTC",
        "BUY BTC/USDT price=abc",
        "BUY BTC/USDT 65000",
        "BUY BTC/USDT size=1",
        "BUY BTC/USDT sl=1 sl=2",
        "  \n BUY later",
    ):
        with pytest.raises(PayloadError):
            parse_message(bad)


def _update(update_id: int, text: str, chat: int = CHAT) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id * 10,
            "date": 1767265200,
            "chat": {"id": chat},
            "text": text,
        },
    }


async def test_a_telegram_provider_reads_signals_from_its_chats_only(
    db: Database, alice: Actor, feed: tuple[FakeFeed, str], http: aiohttp.ClientSession
) -> None:
    fake, base = feed
    fake.updates = [
        _update(7, "BUY BTC/USDT price=65000.5 conf=90\nbreakout"),
        _update(8, "good morning everyone"),
        _update(9, "SELL BTC/USDT", chat=555),  # a stranger messaging the bot
        _update(10, "SELL BTC/USDT price=-3"),
        {"update_id": 11, "edited_message": {"text": "BUY ETH/USDT"}},
    ]
    created = await service.create_provider(
        db,
        alice,
        name="tg",
        type="telegram",
        api_key=TOKEN,
        config={"chat_ids": [CHAT], "api_url": base},
    )
    poller = Poller(db, http, created.info.id, clock=FrozenClock())
    outcome = await poller.poll_once()
    assert outcome.stored == 1 and len(outcome.rejected) == 1
    assert f"tg:{CHAT}:100" in outcome.rejected[0] and "price" in outcome.rejected[0]
    (signal,) = await _signals(db)
    assert (signal.external_id, signal.action, signal.price, signal.reason) == (
        f"tg:{CHAT}:70",
        "BUY",
        Decimal("65000.5"),
        "breakout",
    )
    assert signal.created_at == datetime(2026, 1, 1, 11, tzinfo=UTC)
    fake.updates.append(_update(12, "SELL BTC/USDT conf=60"))
    second = await poller.poll_once()
    assert fake.offsets == [None, "12"]  # the first poll confirmed updates 7..11
    assert second.stored == 1 and len(await _signals(db)) == 2
    # A restart forgets the offset; Telegram's redelivery is deduplicated by the message id.
    assert (await Poller(db, http, created.info.id).poll_once()).duplicates == 2


async def test_a_wrong_bot_token_is_a_source_error_that_does_not_leak_it(
    db: Database, alice: Actor, feed: tuple[FakeFeed, str], http: aiohttp.ClientSession
) -> None:
    _fake, base = feed
    wrong = "987654321:BBF" + "y" * 30
    created = await service.create_provider(
        db,
        alice,
        name="tg",
        type="telegram",
        api_key=wrong,
        config={"chat_ids": [CHAT], "api_url": base},
    )
    with pytest.raises(SourceError) as caught:
        await Poller(db, http, created.info.id).poll_once()
    assert "401" in str(caught.value) and wrong not in str(caught.value)
