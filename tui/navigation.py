"""The main screens: one line each. The app makes every entry a mode with a global key, a nav
bar item, a command-palette entry and a help-screen line.

Adding a screen is one line in ``SCREENS``: its module is imported on first visit only, so
start-up stays fast however many screens there are. Keys: digits for the everyday screens
(1 overview, 2 bots, 3 positions, 4 trades, 5 order, 6 backtests, 7 exchanges, 8 DeFi,
9 notifications, 0 support) and function keys for account and operator screens (F2 security and
F3 log out are app actions; F4 settings, F5 engine, F6 admin). A user may rebind any of them in
``config.toml`` (``[keymap]``, binding id ``nav.<id>``). Screens must not bind digits or F-keys.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen

    from core.services.actor import Actor


@dataclass(frozen=True, slots=True)
class Destination:
    id: str
    """The mode name, and the binding id ``nav.<id>``."""
    title: str
    key: str
    screen: str
    """``"module:Class"`` of a ``Screen`` whose constructor takes no arguments."""
    description: str
    admin_only: bool = False
    short: str = ""
    """A shorter title for narrow terminals (defaults to the title)."""

    @property
    def binding_id(self) -> str:
        return f"nav.{self.id}"

    @property
    def label(self) -> str:
        return self.short or self.title

    def build(self) -> Screen:
        module, _, name = self.screen.partition(":")
        return getattr(importlib.import_module(module), name)()

    def allowed(self, actor: Actor | None) -> bool:
        return actor is not None and (actor.is_admin or not self.admin_only)

    def preload(self) -> None:
        """Import the screen's module (and the services it uses) ahead of the first visit."""
        importlib.import_module(self.screen.partition(":")[0])


# fmt: off
SCREENS: tuple[Destination, ...] = (
    Destination("overview", "Overview", "1", "tui.screens.overview:OverviewScreen", "Portfolio value, today's P&L, active bots, latest trades, engine", short="Home"),
    Destination("bots", "Bots", "2", "tui.screens.bots:BotsScreen", "Your bots: create, start, pause, stop, edit, delete; open one for its page"),
    Destination("positions", "Positions", "3", "tui.screens.positions:PositionsScreen", "Open positions live, close by hand; closed positions", short="Pos"),
    Destination("trades", "Trades", "4", "tui.screens.trades:TradesScreen", "Trade history: filters, sort, pages, totals, CSV export"),
    Destination("order", "Order", "5", "tui.screens.order:OrderScreen", "Place a market or limit order, paper or on an exchange; cancel open ones"),
    Destination("backtests", "Backtests", "6", "tui.screens.backtests:BacktestsScreen", "Run a bot or strategy over a dataset; reports and history", short="Tests"),
    Destination("exchanges", "Exchanges", "7", "tui.screens.exchanges:ExchangesScreen", "Exchange connections: add (keys masked), test, enable/disable, remove", short="Exch"),
    Destination("defi", "DeFi", "8", "tui.screens.defi:DeFiScreen", "Wallets per chain; staking, farm and liquidity positions, rewards, impermanent loss"),
    Destination("notifications", "Notifications", "9", "tui.screens.notifications:NotificationsScreen", "Inbox (unread first), mark read, filters; notification preferences", short="Inbox"),
    Destination("support", "Support", "0", "tui.screens.support:SupportScreen", "Support tickets: open one, read and reply; staff see and run all", short="Supp"),
    Destination("help-center", "Help center", "f1", "tui.screens.help_center:HelpCenterScreen", "Help articles and FAQs, searchable", short="Help"),
    Destination("settings", "Settings", "f4", "tui.screens.settings:SettingsScreen", "Profile, theme, language/time zone/currency, privacy, data export, security", short="Set"),
    Destination("engine", "Engine", "f5", "tui.screens.engine:EngineScreen", "Engine processes, heartbeats, cycle rates and latency, the queue of due bots", short="Eng"),
    Destination("marketplace", "Marketplace", "f7", "tui.screens.marketplace:MarketplaceScreen", "Bot templates and strategies: browse, buy, review, deploy as a bot", short="Market"),
    Destination("plans", "Plan & billing", "f8", "tui.screens.plans:PlansScreen", "Your plan and its limits, usage, payments; change or cancel", short="Plan"),
    Destination("referrals", "Referrals", "f9", "tui.screens.referrals:ReferralsScreen", "Your referral code, who joined, rewards", short="Refer"),
    Destination("admin", "Admin", "f6", "tui.screens.admin:AdminScreen", "Users, audit and security logs, blocked IPs, system settings", admin_only=True),
)
# fmt: on

HOME = SCREENS[0].id


def by_id(screen_id: str) -> Destination:
    for destination in SCREENS:
        if destination.id == screen_id:
            return destination
    raise KeyError(screen_id)


def allowed(actor: Actor | None) -> list[Destination]:
    return [d for d in SCREENS if d.allowed(actor)]
