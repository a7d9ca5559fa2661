"""Telegram control end to end: python-telegram-bot long-polling a local Bot API stand-in, the
commands acting on PostgreSQL through the services as the paired user."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.trading import Position
from core.db.models.users import User
from core.services import bots, telegram_links, trading
from core.services.actor import Actor
from core.services.bot_views import BotSpec
from core.telegram.bot import serve
from core.telegram.commands import Control
from tests.notifications.servers import ChatApi, start_http
from tests.service_users import add_user

CHAT = 5550001
STRANGER = 5550999
SIGNAL_CONFIG = {
    "symbol": "BTC/USDT",
    "timeframe": "1m",
    "indicator": {"name": "sma_cross", "fast": 3, "slow": 8},
}


@dataclass
class Chat:
    """One Telegram user talking to the bot through the stand-in."""

    api: ChatApi
    chat_id: int

    async def say(self, text: str) -> dict[str, Any]:
        """Send ``text``; the bot's answer (a new message)."""
        before = len(self.api.sent(self.chat_id))
        await self.api.user_says(self.chat_id, text)
        return (await self.api.wait_sent(self.chat_id, before + 1))[-1]

    async def press(self, answer: dict[str, Any], label: str) -> dict[str, Any]:
        """Press the button labelled ``label`` under the bot's message; the edited message."""
        rows = answer["reply_markup"]["inline_keyboard"]
        (data,) = [b["callback_data"] for row in rows for b in row if b["text"] == label]
        before = len(self.api.sent(self.chat_id))
        await self.api.user_presses(self.chat_id, answer["message_id"], data)
        return (await self.api.wait_sent(self.chat_id, before + 1))[-1]


def labels(answer: dict[str, Any]) -> list[str]:
    markup = answer.get("reply_markup") or {"inline_keyboard": []}
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


@dataclass
class Running:
    api: ChatApi
    clock: FrozenClock
    ctx: trading.TradingContext

    def chat(self, chat_id: int = CHAT) -> Chat:
        return Chat(self.api, chat_id)


@pytest.fixture
async def bot(db: Database) -> AsyncIterator[Running]:
    api = ChatApi()
    runner, base = await start_http(api)
    clock = FrozenClock()
    ctx = trading.TradingContext.simulated(clock=clock)
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(
        serve(
            db,
            Control(db, ctx, clock=clock),
            token=api.token,
            api_url=base,
            stop=stop,
            clock=clock,
            poll_timeout=1,
            on_ready=lambda _name: ready.set(),
        )
    )
    await asyncio.wait_for(ready.wait(), 60)
    yield Running(api, clock, ctx)
    stop.set()
    await asyncio.wait_for(task, 60)
    await ctx.hubs.close()
    await runner.cleanup()


async def paired(
    db: Database, running: Running, email: str = "trader@example.com"
) -> tuple[Actor, Chat]:
    actor = await add_user(db, email, plan="enterprise")
    code = await telegram_links.new_pairing_code(db, actor, clock=running.clock)
    chat = running.chat()
    answer = await chat.say(f"/start {code.code}")
    assert "now controls your BlockbotX account" in answer["text"]
    return actor, chat


async def test_pairing_with_a_one_time_code(db: Database, bot: Running) -> None:
    ann = await add_user(db, "ann@example.com")
    code = await telegram_links.new_pairing_code(db, ann, clock=bot.clock)
    assert len(code.code) == 8 and code.expires_at == bot.clock.now() + timedelta(minutes=10)
    chat = bot.chat()
    assert "wrong or has expired" in (await chat.say("/start NOTACODE"))["text"]
    assert not (await telegram_links.link_state(db, ann, clock=bot.clock)).paired
    answer = await chat.say(f"/start {code.code.lower()}")
    assert "/forceexit" in answer["text"]
    state = await telegram_links.link_state(db, ann, clock=bot.clock)
    assert state.paired and state.chat == str(CHAT) and state.code_expires_at is None
    # the code was single-use: another chat can't take the account with it
    other = bot.chat(STRANGER)
    assert "wrong or has expired" in (await other.say(f"/start {code.code}"))["text"]
    # an expired code pairs nothing
    late = await telegram_links.new_pairing_code(db, ann, clock=bot.clock)
    bot.clock.advance(minutes=11)
    assert "wrong or has expired" in (await other.say(f"/start {late.code}"))["text"]
    assert (await telegram_links.link_state(db, ann, clock=bot.clock)).chat == str(CHAT)
    assert await telegram_links.unpair(db, ann, clock=bot.clock)
    assert not (await telegram_links.link_state(db, ann, clock=bot.clock)).paired


async def test_an_unpaired_chat_gets_nothing(db: Database, bot: Running) -> None:
    _, chat = await paired(db, bot)
    for command in ("/status", "/help", "/balance", "/start", "/bots", "/forceexit"):
        await bot.api.user_says(STRANGER, command)
    # updates are handled in order: once the paired chat is answered, the stranger's were seen
    assert "/status" in (await chat.say("/help"))["text"]
    assert bot.api.sent(STRANGER) == []


async def test_a_group_chat_is_not_controlled(db: Database, bot: Running) -> None:
    _, chat = await paired(db, bot)
    await bot.api.user_says(CHAT, "/status", chat_type="group")
    assert "/status" in (await chat.say("/help"))["text"]
    assert len(bot.api.sent(CHAT)) == 2  # the pairing answer and /help; not the group's /status


async def test_a_banned_or_suspended_account_is_refused_at_once(db: Database, bot: Running) -> None:
    actor, chat = await paired(db, bot)
    assert (await chat.say("/status"))["text"] == "No open positions."
    async with db.sessions.begin() as s:
        await s.execute(
            update(User)
            .where(User.id == actor.user_id)
            .values(status="suspended", suspended_until=bot.clock.now() + timedelta(days=1))
        )
    answer = await chat.say("/balance")
    assert answer["text"].startswith("This account is suspended until")
    async with db.sessions.begin() as s:
        await s.execute(
            update(User)
            .where(User.id == actor.user_id)
            .values(status="banned", banned_at=bot.clock.now(), banned_reason="fraud")
        )
    assert (await chat.say("/bots"))["text"] == "This account is banned: fraud."
    assert "Portfolio" not in str(bot.api.sent(CHAT))


async def _bot(db: Database, actor: Actor, clock: FrozenClock, name: str) -> str:
    async with db.sessions.begin() as s:
        view = await bots.create_bot(
            s, actor, BotSpec(name=name, type="signal", config=SIGNAL_CONFIG), clock=clock
        )
    return view.id


async def _status(db: Database, bot_id: str) -> str:
    async with db.session() as s:
        return str(await s.scalar(select(Bot.status).where(Bot.id == bot_id)))


async def test_bot_commands_by_name_with_a_choice_when_ambiguous(
    db: Database, bot: Running
) -> None:
    actor, chat = await paired(db, bot)
    grid = await _bot(db, actor, bot.clock, "Alpha grid")
    dca = await _bot(db, actor, bot.clock, "Alpha dca")
    beta = await _bot(db, actor, bot.clock, "Beta")
    eve = await add_user(db, "eve@example.com", plan="enterprise")
    theirs = await _bot(db, eve, bot.clock, "Beta")

    listing = (await chat.say("/bots"))["text"]
    assert "Your bots (3)" in listing and "Alpha grid – inactive, BTC/USDT, paper" in listing
    assert "P&L 0.00 USDT" in listing

    assert (await chat.say("/start_bot beta"))["text"] == "Started Beta."
    assert await _status(db, beta) == "active" and await _status(db, theirs) == "inactive"

    choice = await chat.say("/start_bot alpha")
    assert choice["text"] == "Which bot? (Start)"
    assert labels(choice) == ["Start Alpha dca", "Start Alpha grid", "Cancel"]
    done = await chat.press(choice, "Start Alpha grid")
    assert done["text"] == "Started Alpha grid." and "reply_markup" not in done
    assert await _status(db, grid) == "active" and await _status(db, dca) == "inactive"

    assert (await chat.say("/pause Alpha grid"))["text"] == "Paused Alpha grid."
    assert await _status(db, grid) == "paused"
    # starting a paused bot resumes it, and says so
    assert (await chat.say("/start_bot Alpha grid"))["text"] == "Resumed Alpha grid."
    assert (await chat.say("/pause Alpha grid"))["text"] == "Paused Alpha grid."
    assert "No bot named 'Alpha dca' can be paused" in (await chat.say("/pause Alpha dca"))["text"]
    assert "No bot named 'Gamma' can be started" in (await chat.say("/start_bot Gamma"))["text"]

    stop = await chat.say("/stop")
    assert labels(stop) == ["Stop Alpha grid", "Stop Beta", "Cancel"]
    assert (await chat.press(stop, "Cancel"))["text"] == "Cancelled; nothing was changed."
    assert await _status(db, beta) == "active"
    answer = await chat.say("/stop Beta")
    assert answer["text"].startswith("Stopped Beta.")
    assert await _status(db, beta) == "inactive" and await _status(db, theirs) == "inactive"

    # a forged button for another user's bot is answered like a missing one
    before = len(bot.api.sent(CHAT))
    await bot.api.user_presses(CHAT, answer["message_id"], f"start:{theirs}")
    forged = (await bot.api.wait_sent(CHAT, before + 1))[-1]
    assert "No bot" in forged["text"] and await _status(db, theirs) == "inactive"


async def test_reading_commands(db: Database, bot: Running) -> None:
    actor, chat = await paired(db, bot)
    assert (await chat.say("/status"))["text"] == "No open positions."
    assert (await chat.say("/trades"))["text"] == "No trades yet."
    await trading.place_order(
        db, actor, symbol="BTC/USDT", side="buy", quantity="0.05", ctx=bot.ctx
    )
    bot.clock.advance(hours=1)
    await trading.place_order(
        db, actor, symbol="BTC/USDT", side="sell", quantity="0.02", ctx=bot.ctx
    )
    await trading.place_order(db, actor, symbol="ETH/USDT", side="buy", quantity="1", ctx=bot.ctx)

    status = (await chat.say("/status"))["text"]
    assert status.startswith("Open positions (2):")
    assert "• BTC/USDT (" in status and "0.03 at " in status and " USDT" in status
    trades = (await chat.say("/trades 2"))["text"]
    assert trades.startswith("Latest 2 trades:") and "BUY 1 ETH/USDT" in trades
    assert "SELL 0.02 BTC/USDT" in trades and "P&L " in trades
    profit = (await chat.say("/profit"))["text"]
    assert profit.startswith("Profit, all time:") and "Trades: 3 (2 buys, 1 sells)" in profit
    assert "Realised P&L: " in profit and profit.count("USDT") >= 3
    week = (await chat.say("/profit 7"))["text"]
    assert week.startswith("Profit, last 7 days:")
    balance = (await chat.say("/balance"))["text"]
    assert balance.startswith("Portfolio: ") and "Open positions: 2" in balance
    assert "USDT" in balance
    daily = (await chat.say("/daily 3"))["text"].splitlines()
    assert daily[0] == "Day (UTC)    realised P&L · trades" and len(daily) == 4
    assert daily[1].startswith(f"{bot.clock.now():%Y-%m-%d}") and daily[1].endswith(" · 3")
    for bad, message in (
        ("/profit soon", "profit must be a whole number"),
        ("/daily 0", "daily must be between 1 and 31"),
        ("/trades 99", "trades must be between 1 and 20"),
    ):
        assert message in (await chat.say(bad))["text"]
    assert "/start_bot NAME" in (await chat.say("/help"))["text"]


async def test_forceexit_closes_a_paper_position_after_confirming(
    db: Database, bot: Running
) -> None:
    actor, chat = await paired(db, bot)
    assert (await chat.say("/forceexit"))["text"] == "No open positions to close."
    await trading.place_order(
        db, actor, symbol="BTC/USDT", side="buy", quantity="0.05", ctx=bot.ctx
    )
    await trading.place_order(db, actor, symbol="ETH/USDT", side="buy", quantity="1", ctx=bot.ctx)
    choice = await chat.say("/forceexit")
    assert choice["text"] == "Which position?" and len(labels(choice)) == 3
    asked = await chat.press(choice, next(x for x in labels(choice) if x.startswith("BTC/USDT")))
    assert asked["text"].startswith("Close 0.05 BTC/USDT of ") and labels(asked) == [
        "Close it",
        "Cancel",
    ]
    assert (await chat.press(asked, "Cancel"))["text"] == "Cancelled; nothing was changed."
    asked = await chat.say("/forceexit btc/usdt")  # one match: straight to the confirmation
    assert labels(asked) == ["Close it", "Cancel"]
    closed = await chat.press(asked, "Close it")
    assert closed["text"].startswith("Closed: sold 0.05 BTC/USDT at ")
    assert "realised P&L " in closed["text"] and closed["text"].endswith("USDT.")
    async with db.session() as s:
        rows = dict((await s.execute(select(Position.symbol, Position.status))).all())
    assert rows == {"BTC/USDT": "closed", "ETH/USDT": "open"}
    # the button again: nothing left to close
    again = await chat.press(asked, "Close it")
    assert again["text"] == "The position is already closed."
    # a forged button for another user's position is answered like a missing one
    eve = await add_user(db, "eve@example.com")
    await trading.place_order(db, eve, symbol="SOL/USDT", side="buy", quantity="3", ctx=bot.ctx)
    async with db.session() as s:
        theirs = await s.scalar(select(Position.id).where(Position.symbol == "SOL/USDT"))
    for data, refusal in (
        (f"fx:{theirs}", "That position is not open (any more)."),
        (f"fxok:{theirs}", f"No position {theirs!r}."),
    ):
        before = len(bot.api.sent(CHAT))
        await bot.api.user_presses(CHAT, asked["message_id"], data)
        assert (await bot.api.wait_sent(CHAT, before + 1))[-1]["text"] == refusal
    async with db.session() as s:
        assert await s.scalar(select(Position.status).where(Position.id == theirs)) == "open"


async def test_pairing_guesses_are_limited_per_chat(db: Database, bot: Running) -> None:
    _, chat = await paired(db, bot)
    guesser = bot.chat(STRANGER)
    for attempt in range(5):
        assert "wrong or has expired" in (await guesser.say(f"/start GUESS{attempt:03d}"))["text"]
    await bot.api.user_says(STRANGER, "/start GUESS005")  # the sixth in a minute: no answer
    assert "/status" in (await chat.say("/help"))["text"]
    assert len(bot.api.sent(STRANGER)) == 5
    bot.clock.advance(minutes=1)
    assert "wrong or has expired" in (await guesser.say("/start GUESS006"))["text"]
