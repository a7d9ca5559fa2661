"""Command-palette providers for the trading screens: bots ("go to bot …" by name, and each
bot's lifecycle), positions (close one), trades, manual orders, backtests and exchanges. Each
command goes to its screen and runs that screen's own action: same checks, same dialogs.

The trading services are imported when the palette first opens, not when the app starts (ccxt
only when an exchange is first used: ``core.market.lazy_ccxt``)."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.screen import Screen

from tui.palette import Command, DomainProvider
from tui.screens.commands import LISTED, act, on_screen, push, stay
from tui.service_call import in_session


def _bot_page(bot_id: str, then: str | None = None) -> Any:
    from tui.screens.bot_detail import BotDetailScreen

    return push(partial(BotDetailScreen, bot_id, then=then))


class BotsProvider(DomainProvider):
    """New bots, and every bot by name: its page, start, pause or resume, stop, backtest."""

    async def commands(self) -> list[Command]:
        from core.services import bots

        app = self.bbx
        go = partial(on_screen, app, "bots")
        found = [
            Command("Bots: new bot", "A form for the bot type you choose", partial(go, act("new_bot"))),
            Command("Bots: new bot from a template", "Start from a ready-made setup",
                    partial(go, act("from_template"))),
            Command("Signal providers", "TradingView and webhook providers: addresses, alert message, new key",
                    partial(go, act("signal_providers"))),
        ]  # fmt: skip
        try:
            listed = await in_session(app.db, app.actor, bots.list_bots, sort="name",  # type: ignore[arg-type]
                                      descending=False, limit=LISTED * 4)  # fmt: skip
        except Exception:  # the palette still opens without them
            return found
        for b in listed:
            what = f"{b.type} · {b.status} · {b.symbol}"
            found += [
                Command(f"Go to bot {b.name}", what, partial(go, _bot_page(b.id))),
                Command(f"Start bot {b.name}", what, partial(go, _bot_page(b.id, "start_bot"))),
                Command(f"Pause or resume bot {b.name}", what, partial(go, _bot_page(b.id, "pause_bot"))),
                Command(f"Stop bot {b.name}", what, partial(go, _bot_page(b.id, "stop_bot"))),
                Command(f"Backtest bot {b.name}", what, partial(go, _bot_page(b.id, "backtest"))),
            ]  # fmt: skip
        return found


class PositionsProvider(DomainProvider):
    """Close any open position by its symbol and bot."""

    async def commands(self) -> list[Command]:
        from core.services import position_board

        app = self.bbx
        go = partial(on_screen, app, "positions")
        found = [Command("Positions: closed positions", "Positions closed by rules or by hand",
                         partial(go, lambda screen: screen.action_tab("closed")))]  # fmt: skip
        try:
            held = await position_board.open_positions(app.db, app.actor, limit=LISTED)  # type: ignore[arg-type]
        except Exception:
            return found
        found += [
            Command(
                f"Close position {p.symbol} of {p.bot_name}",
                f"{p.held.normalize()} at entry {p.entry_price.normalize()} (asks first)",
                partial(go, partial(_close, p.id)),
            )
            for p in held
        ]
        return found


def _close(position_id: str, screen: Screen[Any]) -> None:
    screen.close_position(position_id)  # type: ignore[attr-defined]


class TradingProvider(DomainProvider):
    """Trades, manual orders, backtests and exchange connections: their actions by name."""

    async def commands(self) -> list[Command]:
        from core.market.simulated import DEFAULT_SYMBOLS
        from core.services import exchanges

        app = self.bbx
        go = partial(on_screen, app)
        found = [
            Command("Trades: export CSV", "The filtered trades, to a CSV file", partial(go, "trades", act("export"))),
            Command("Trades: clear filters", "Every trade again", partial(go, "trades", act("clear"))),
            Command("Backtests: run", "Run the backtest as set up", partial(go, "backtests", act("run"))),
            Command("Backtests: past runs", "Reports of earlier runs", partial(go, "backtests", stay)),
            Command("Backtests: optimisations", "Best trials, importance, out-of-sample",
                    partial(go, "backtests", act("optimizations"))),
            Command("Exchanges: add a connection", "Binance or OKX keys, typed masked",
                    partial(go, "exchanges", act("add"))),
        ]  # fmt: skip
        for spec in DEFAULT_SYMBOLS:
            for side in ("buy", "sell"):
                found.append(
                    Command(
                        f"Order: {side} {spec.symbol}",
                        "A paper or exchange order, estimated before it is placed",
                        partial(go, "order", partial(_ticket, spec.symbol, side)),
                    )
                )
        try:
            connections = await exchanges.list_connections(app.db, app.actor)  # type: ignore[arg-type]
        except Exception:
            return found
        found += [
            Command(
                f"Exchanges: test {c.venue}{' · ' + c.label if c.label else ''}",
                f"Sign in with the keys {c.api_key_masked} and read the balances",
                partial(go, "exchanges", partial(_test, c.id)),
            )
            for c in connections
        ]
        return found


def _ticket(symbol: str, side: str, screen: Screen[Any]) -> None:
    screen.prefill(symbol, side)  # type: ignore[attr-defined]


def _test(connection_id: str, screen: Screen[Any]) -> None:
    screen.test(connection_id)  # type: ignore[attr-defined]


PROVIDERS = (BotsProvider, PositionsProvider, TradingProvider)
