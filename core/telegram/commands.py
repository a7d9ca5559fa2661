"""What each Telegram command does, as the paired user, through the service layer.

A command gives a ``Reply``: text, and optionally inline buttons whose callback data comes back
through ``Control.callback`` (choosing a bot when a name is ambiguous, confirming a force exit).
Every button press is checked again as the user who presses it: a button for someone else's
bot or position is answered like a missing one. Figures are rounded for reading, with their
currency.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.brokers.types import OrderStatus
from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.errors import InvalidInput, NotFound, ServiceError
from core.figures import amount, percent, price, quantity, quote_of
from core.ledger.wallets import DEFAULT_QUOTE
from core.services import bots, overview, position_board, trade_history, trading
from core.services.actor import Actor
from core.services.bot_views import BotSummary
from core.services.trade_history import TradeFilter

MAX_DAYS = 3650
MAX_LIST = 20
MAX_BUTTONS = 12
HELP = """BlockbotX commands
/status – open positions
/profit [days] – realised profit (all time, or the last N days)
/balance – portfolio value, cash and exposure
/daily [days] – profit per day (UTC), last 7 days by default
/trades [n] – the latest trades (10 by default)
/bots – your bots
/start_bot NAME – start a bot (resumes a paused one)
/pause NAME – pause a running bot
/stop NAME – stop a bot (its positions stay open)
/forceexit [SYMBOL or position id] – close an open position at market, after you confirm
/help – this list"""


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str
    """Callback data: at most 64 bytes (Telegram's limit)."""


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


VERBS: dict[str, tuple[str, str, str]] = {
    # command: (callback verb, its button, done)
    "start_bot": ("start", "Start", "started"),
    "pause": ("pause", "Pause", "paused"),
    "stop": ("stop", "Stop", "stopped"),
}
ELIGIBLE = {
    "start": {bots.INACTIVE, bots.PAUSED, bots.ERROR},
    "pause": {bots.ACTIVE},
    "stop": {bots.ACTIVE, bots.PAUSED, bots.ERROR},
}


def _int_arg(args: list[str], default: int | None, name: str, top: int) -> int | None:
    if not args:
        return default
    try:
        value = int(args[0])
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, e.g. /{name} 7.") from None
    if not 1 <= value <= top:
        raise InvalidInput(f"{name} must be between 1 and {top}.")
    return value


@dataclass
class Control:
    db: Database
    trading: trading.TradingContext
    clock: Clock = SYSTEM_CLOCK
    commands: dict[str, Callable[[Actor, list[str]], Awaitable[Reply]]] = field(init=False)

    def __post_init__(self) -> None:
        self.commands = {
            "help": self.help,
            "status": self.status,
            "profit": self.profit,
            "balance": self.balance,
            "daily": self.daily,
            "trades": self.trades,
            "bots": self.bots,
            "start_bot": self.start_bot,
            "pause": self.pause,
            "stop": self.stop,
            "forceexit": self.forceexit,
        }

    async def run(self, actor: Actor, command: str, args: list[str]) -> Reply:
        """A command's reply; a refusal is its message (nothing changed)."""
        handler = self.commands.get(command)
        if handler is None:
            return Reply(f"Unknown command /{command}. /help lists them.")
        try:
            return await handler(actor, args)
        except ServiceError as exc:
            return Reply(str(exc))

    async def callback(self, actor: Actor, data: str) -> Reply:
        """What a pressed button does."""
        verb, _, target = data.partition(":")
        try:
            if verb in ELIGIBLE:
                return await self._bot_action(actor, verb, target)
            if verb == "fx":
                return await self._confirm_exit(actor, target)
            if verb == "fxok":
                return await self._exit(actor, target)
            if verb == "cancel":
                return Reply("Cancelled; nothing was changed.")
        except ServiceError as exc:
            return Reply(str(exc))
        return Reply("That button is no longer valid.")

    # -- reading ---------------------------------------------------------------------------------

    async def help(self, actor: Actor, args: list[str]) -> Reply:
        return Reply(HELP)

    async def status(self, actor: Actor, args: list[str]) -> Reply:
        positions = await position_board.open_positions(self.db, actor, limit=MAX_LIST)
        if not positions:
            return Reply("No open positions.")
        lines = [f"Open positions ({len(positions)}{'+' if len(positions) == MAX_LIST else ''}):"]
        for p in positions:
            quote = quote_of(p.symbol)
            lines.append(
                f"• {p.symbol} ({p.bot_name}{', paper' if p.is_paper else ''}): "
                f"{quantity(p.held)} at {price(p.entry_price, quote)}, now "
                f"{price(p.current_price, quote)}, P&L {amount(p.unrealized_pnl, quote, sign=True)} "
                f"({percent(p.unrealized_pnl_percent)})"
            )
        return Reply("\n".join(lines))

    async def profit(self, actor: Actor, args: list[str]) -> Reply:
        days = _int_arg(args, None, "profit", MAX_DAYS)
        since = None if days is None else self.clock.now() - timedelta(days=days)
        t = await trade_history.totals(self.db, actor, TradeFilter(since=since))
        span = "all time" if days is None else f"last {days} day{'s' if days != 1 else ''}"
        win = "—" if t.win_rate is None else f"{t.win_rate}%"
        return Reply(
            f"Profit, {span}:\n"
            f"Realised P&L: {amount(t.realized_pnl, DEFAULT_QUOTE, sign=True)}\n"
            f"Fees: {amount(t.fees, DEFAULT_QUOTE)}\n"
            f"Trades: {t.count} ({t.buys} buys, {t.sells} sells), win rate {win}\n"
            f"Volume: {amount(t.volume, DEFAULT_QUOTE)}"
        )

    async def balance(self, actor: Actor, args: list[str]) -> Reply:
        now = self.clock.now()
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        o = await overview.overview(self.db, actor, day_start=day_start)
        q = DEFAULT_QUOTE
        return Reply(
            f"Portfolio: {amount(o.value, q)} (paper {amount(o.paper_value, q)}, "
            f"live {amount(o.live_value, q)})\n"
            f"Cash: {amount(o.cash, q)} · in positions: {amount(o.exposure, q)}\n"
            f"Unrealised P&L: {amount(o.unrealized_pnl, q, sign=True)} · "
            f"realised today: {amount(o.realized_today, q, sign=True)}\n"
            f"Open positions: {o.open_positions}"
        )

    async def daily(self, actor: Actor, args: list[str]) -> Reply:
        days = _int_arg(args, 7, "daily", 31) or 7
        today = datetime.combine(self.clock.now().astimezone(UTC).date(), datetime.min.time(), UTC)
        lines = ["Day (UTC)    realised P&L · trades"]
        for back in range(days):
            start = today - timedelta(days=back)
            t = await trade_history.totals(
                self.db, actor, TradeFilter(since=start, until=start + timedelta(days=1))
            )
            lines.append(
                f"{start:%Y-%m-%d}  {amount(t.realized_pnl, DEFAULT_QUOTE, sign=True)} · {t.count}"
            )
        return Reply("\n".join(lines))

    async def trades(self, actor: Actor, args: list[str]) -> Reply:
        n = _int_arg(args, 10, "trades", MAX_LIST) or 10
        page = await trade_history.search(self.db, actor, limit=n)
        if not page.items:
            return Reply("No trades yet.")
        lines = [f"Latest {len(page.items)} trade{'s' if len(page.items) != 1 else ''}:"]
        for row in page.items:
            t = row.trade
            quote = quote_of(t.symbol)
            pnl = (
                "" if t.profit_loss is None else f", P&L {amount(t.profit_loss, quote, sign=True)}"
            )
            lines.append(
                f"• {t.executed_at:%m-%d %H:%M} {t.side} {quantity(t.quantity)} {t.symbol} at "
                f"{price(t.executed_price, quote)}{pnl}{' (paper)' if t.is_paper else ''}"
            )
        return Reply("\n".join(lines))

    async def bots(self, actor: Actor, args: list[str]) -> Reply:
        listed = await self._list_bots(actor)
        if not listed:
            return Reply("No bots yet.")
        lines = [f"Your bots ({len(listed)}):"]
        for b in listed[:MAX_LIST]:
            lines.append(
                f"• {b.name} – {b.status}, {b.symbol}{', paper' if b.paper_trading else ''}, "
                f"P&L {amount(b.pnl, DEFAULT_QUOTE, sign=True)} ({percent(b.pnl_percent)}), "
                f"{b.open_positions} open"
            )
        return Reply("\n".join(lines))

    # -- bots ------------------------------------------------------------------------------------

    async def _list_bots(self, actor: Actor) -> list[BotSummary]:
        async with self.db.session() as session:
            return await bots.list_bots(session, actor, sort="name", descending=False, limit=100)

    async def _by_name(self, actor: Actor, command: str, args: list[str]) -> Reply:
        verb, label, done = VERBS[command]
        listed = [b for b in await self._list_bots(actor) if b.status in ELIGIBLE[verb]]
        name = " ".join(args).strip().casefold()
        if name:
            exact = [b for b in listed if b.name.casefold() == name]
            listed = exact or [b for b in listed if name in b.name.casefold()]
        if len(listed) == 1 and name:
            return await self._bot_action(actor, verb, listed[0].id)
        if not listed:
            which = f" named {' '.join(args)!r}" if name else ""
            return Reply(f"No bot{which} can be {done} now (/bots lists them).")
        buttons = tuple(
            (Button(f"{label} {b.name}", f"{verb}:{b.id}"),) for b in listed[:MAX_BUTTONS]
        )
        return Reply(f"Which bot? ({label})", (*buttons, (Button("Cancel", "cancel"),)))

    async def start_bot(self, actor: Actor, args: list[str]) -> Reply:
        return await self._by_name(actor, "start_bot", args)

    async def pause(self, actor: Actor, args: list[str]) -> Reply:
        return await self._by_name(actor, "pause", args)

    async def stop(self, actor: Actor, args: list[str]) -> Reply:
        return await self._by_name(actor, "stop", args)

    async def _bot_action(self, actor: Actor, verb: str, bot_id: str) -> Reply:
        async with self.db.sessions.begin() as session:
            if verb == "start":
                before = await bots.get_bot(session, actor, bot_id, executions=0)
                view = await bots.start_bot(session, actor, bot_id, clock=self.clock)
                done = "Resumed" if before.bot.status == bots.PAUSED else "Started"
                return Reply(f"{done} {view.name}.")
            if verb == "pause":
                view = await bots.pause_bot(session, actor, bot_id, clock=self.clock)
                return Reply(f"Paused {view.name}.")
            result = await bots.stop_bot(session, actor, bot_id, clock=self.clock)
        return Reply(
            f"Stopped {result.bot.name}. Its open positions stay open (/forceexit closes one)."
        )

    # -- force exit ------------------------------------------------------------------------------

    async def forceexit(self, actor: Actor, args: list[str]) -> Reply:
        positions = await position_board.open_positions(self.db, actor)
        wanted = " ".join(args).strip()
        if wanted:
            positions = [
                p for p in positions if p.id == wanted or p.symbol.casefold() == wanted.casefold()
            ]
        if not positions:
            return Reply("No open position matches." if wanted else "No open positions to close.")
        if len(positions) == 1:
            return await self._confirm_exit(actor, positions[0].id)
        buttons = tuple(
            (Button(f"{p.symbol} · {p.bot_name} · {quantity(p.held)}", f"fx:{p.id}"),)
            for p in positions[:MAX_BUTTONS]
        )
        return Reply("Which position?", (*buttons, (Button("Cancel", "cancel"),)))

    async def _position(self, actor: Actor, position_id: str) -> position_board.OpenPosition:
        for p in await position_board.open_positions(self.db, actor):
            if p.id == position_id:
                return p
        raise NotFound("That position is not open (any more).")

    async def _confirm_exit(self, actor: Actor, position_id: str) -> Reply:
        p = await self._position(actor, position_id)
        quote = quote_of(p.symbol)
        return Reply(
            f"Close {quantity(p.held)} {p.symbol} of {p.bot_name} at market? Now "
            f"{price(p.current_price, quote)}, P&L {amount(p.unrealized_pnl, quote, sign=True)}.",
            ((Button("Close it", f"fxok:{p.id}"), Button("Cancel", "cancel")),),
        )

    async def _exit(self, actor: Actor, position_id: str) -> Reply:
        order = await trading.close_position(self.db, actor, position_id, ctx=self.trading)
        if order.status != OrderStatus.FILLED:
            reason = order.error or "the dashboard's Order screen shows it"
            return Reply(f"The closing order is {order.status}: {reason}.")
        filled = order.trades[0].executed_price if order.trades else order.price
        quote = quote_of(order.symbol)
        pnl = sum((t.profit_loss or Decimal(0) for t in order.trades), Decimal(0))
        return Reply(
            f"Closed: sold {quantity(order.filled)} {order.symbol} at {price(filled, quote)}, "
            f"realised P&L {amount(pnl, quote, sign=True)}."
        )
