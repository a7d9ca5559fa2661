"""Marketplace: bot templates and strategies. d deploys the highlighted one as a bot (a form of
its settings to customise, then a confirmation), b buys a strategy, r reviews a bought one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Select, Static, TabbedContent, TabPane

from core.services import marketplace as market
from core.services import templates
from core.services.marketplace import StrategyView
from core.services.templates import BotDraft, TemplateView
from tui.modals.confirm import ConfirmModal
from tui.modals.form import Field, FormModal
from tui.screens.base import BaseScreen
from tui.screens.commerce import billing_for, usd
from tui.screens.deploy_form import RISK_PREFIX, changes, config_changes, setting_fields
from tui.widgets.lazy_pane import LazyPane, build_pane
from tui.widgets.table import Column, KeyedTable, fill_table

SORTS = [("Best rated", "rating"), ("Most bought", "downloads"), ("Price", "price"),
         ("Newest", "newest")]  # fmt: skip
TEMPLATE_COLUMNS = [
    Column("featured", "", 1, keep=5),
    Column("name", "Template", keep=9, width_min=20),
    Column("type", "Type", 13, keep=7),
    Column("level", "Level", 12, keep=4),
    Column("category", "Category", 9, keep=1),
    Column("uses", "Uses", 5, keep=3),
]
STRATEGY_COLUMNS = [
    Column("name", "Strategy", keep=9, width_min=18),
    Column("category", "Category", 15, keep=2),
    Column("price", "Price", 9, keep=8),
    Column("rating", "Rating", 7, keep=7),
    Column("bought", "Bought", 6, keep=5),
    Column("mine", "", 5, keep=6),
]


@dataclass(frozen=True, slots=True)
class Deployable:
    """What the deploy dialog needs, whichever tab it came from."""

    title: str
    bot_type: str
    config: dict[str, Any]
    risk: dict[str, Any]
    check: Callable[[str, dict[str, Any], dict[str, Any]], Awaitable[BotDraft]]
    create: Callable[[Any, str, dict[str, Any], dict[str, Any]], Awaitable[Any]]


def stars(view: StrategyView) -> str:
    return f"{view.rating:.1f}★" if view.reviews else "—"


def strategies_pane() -> Vertical:
    """The strategies tab, built when first shown (``_tab_changed`` loads it)."""
    return Vertical(
        Horizontal(
            Input(placeholder="Search name or description", id="strategy-search", compact=True),
            Select(SORTS, value="rating", allow_blank=False, id="strategy-sort", compact=True),
            id="strategy-filters",
        ),
        KeyedTable((), id="strategy-table"),
        Static("", id="strategy-detail", classes="detail"),
    )


class MarketplaceScreen(BaseScreen):
    LOAD_AFTER_FIRST_FRAME = True
    CSS_PATH = "marketplace.tcss"
    AUTO_FOCUS = "#template-table"  # focused as the screen first shows: not another control first
    BINDINGS = [  # noqa: RUF012
        Binding("d", "deploy", "Deploy", id="market.deploy",
                tooltip="Create a bot from the highlighted template or strategy"),
        Binding("b", "buy", "Buy", id="market.buy", tooltip="Buy the highlighted strategy"),
        Binding("r", "review", "Review", id="market.review",
                tooltip="Rate a strategy you bought (once)"),
        Binding("slash", "search", "Search", id="market.search", tooltip="Search strategies"),
        Binding("s", "sort", "Sort", id="market.sort",
                tooltip="Sort strategies by rating, purchases, price or date"),
        Binding("t", "switch_tab", "Templates/Strategies", id="market.tab",
                tooltip="Switch between templates and strategies"),
        Binding("ctrl+r", "reload", "Refresh", id="market.refresh", show=False),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._templates: dict[str, TemplateView] = {}
        self._strategies: dict[str, StrategyView] = {}
        self._read: set[str] = set()
        """The lists read at least once (a resize fits them again)."""

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="market-tabs", initial="templates"):
            with TabPane("Templates", id="templates"):
                yield KeyedTable((), id="template-table")
                yield Static("", id="template-detail", classes="detail")
            yield LazyPane("Strategies", strategies_pane, id="strategies")
        yield Static("", id="status", classes="hint")

    @property
    def tab(self) -> str:
        return self.query_one("#market-tabs", TabbedContent).active or "templates"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("buy", "review", "search", "sort"):
            return self.tab == "strategies"
        return True

    @on(TabbedContent.TabActivated)
    async def _tab_changed(self) -> None:
        self.refresh_bindings()
        await self._built()
        if self.tab == "strategies" and "strategies" not in self._read:
            self.load_strategies()  # first shown
        table = "#template-table" if self.tab == "templates" else "#strategy-table"
        self.query_one(table, KeyedTable).focus()

    async def _built(self) -> None:
        """The current tab's content mounted (the strategies tab is built when first shown)."""
        tabs = self.query_one("#market-tabs", TabbedContent)
        await build_pane(tabs.get_pane(self.tab))

    def action_switch_tab(self) -> None:
        tabs = self.query_one("#market-tabs", TabbedContent)
        tabs.active = "strategies" if self.tab == "templates" else "templates"

    def action_reload(self) -> None:
        self.load()

    def on_resize(self) -> None:
        # The columns that fit change with the width: the rows already read, fitted again (a
        # reload here read everything twice on a first visit, the first reads cancelled).
        if "templates" in self._read:
            self.show_templates()
        if "strategies" in self._read:
            self.show_strategies()

    # -- loading ------------------------------------------------------------------------------

    def load(self) -> None:
        self.load_templates()
        if self.query("#strategy-table"):  # else its tab reads them when first shown
            self.load_strategies()

    @work(exclusive=True, group="market-templates")
    async def load_templates(self) -> None:
        rows = await self.service(templates.list_templates)
        if rows is not None:
            self._templates = {t.id: t for t in rows}
            self._read.add("templates")
            self.show_templates()

    def show_templates(self) -> None:
        rows = self._templates.values()
        cells = [(t.id, {
            "featured": self.cell("★" if t.featured else "", "warning"),
            "name": self.cell(t.name, bold=t.featured),
            "type": self.cell(t.type.replace("_", " ")),
            "level": self.cell(t.complexity),
            "category": self.cell(t.category),
            "uses": self.cell(t.usage_count),
        }) for t in rows]  # fmt: skip
        with self.app.batch_update():
            fill_table(self.query_one("#template-table", KeyedTable), TEMPLATE_COLUMNS, cells)
        self._show_template()

    @work(exclusive=True, group="market-strategies")
    async def load_strategies(self) -> None:
        built = bool(self.query("#strategy-search"))  # else the tab's defaults
        search = self.query_one("#strategy-search", Input).value if built else ""
        sort = self.query_one("#strategy-sort", Select).value if built else "rating"
        rows = await self.service(
            market.browse_strategies, search=search, sort=str(sort),
            descending=sort != "price",
        )  # fmt: skip
        if rows is not None:
            self._strategies = {s.id: s for s in rows}
            self._read.add("strategies")
            self.show_strategies()

    def show_strategies(self) -> None:
        if not self.query("#strategy-table"):
            return  # its tab isn't built yet
        rows = self._strategies.values()
        cells = [(s.id, {
            "name": self.cell(s.name),
            "category": self.cell((s.category or "—").replace("_", " ")),
            "price": self.cell(usd(s.price), "success" if s.price == 0 else None),
            "rating": self.cell(stars(s), "warning"),
            "bought": self.cell(s.downloads),
            "mine": self.cell("yours" if s.is_mine else "owned" if s.owned else "", "accent"),
        }) for s in rows]  # fmt: skip
        with self.app.batch_update():
            fill_table(self.query_one("#strategy-table", KeyedTable), STRATEGY_COLUMNS, cells)
        self._show_strategy()
        if self.tab == "strategies":
            self.say("" if rows else "No strategies match. Clear the search to see them all.")

    # -- the highlighted row ------------------------------------------------------------------

    def _key(self, table: str) -> str | None:
        return self.query_one(table, KeyedTable).selected_key

    @on(DataTable.RowHighlighted, "#template-table")
    def _show_template(self) -> None:
        t = self._templates.get(self._key("#template-table") or "")
        text: Text | str = ""
        if t is not None:
            settings = ", ".join(f"{k}={v}" for k, v in t.config.items()
                                 if isinstance(v, str | int | float) and k not in ("source",))  # fmt: skip
            owner = "BlockbotX" if t.is_system else ("you" if t.is_mine else "a user")
            text = Text.assemble(
                t.description, "\n", (f"{owner} · {', '.join(t.tags)} · {settings}", "dim")
            )
        self.query_one("#template-detail", Static).update(text)

    @on(DataTable.RowHighlighted, "#strategy-table")
    def _show_strategy(self) -> None:
        s = self._strategies.get(self._key("#strategy-table") or "")
        text: Text | str = ""
        if s is not None:
            perf = s.performance or {}
            tested = (
                f" · backtest: {perf.get('total_return_pct')}% over {perf.get('trades')} trades"
                if perf else ""
            )  # fmt: skip
            who = "yours" if s.is_mine else "you own it" if s.owned else f"{usd(s.price)}"
            meta = (f"by {s.creator} · {s.type.replace('_', ' ')} · {s.reviews} review(s) · "
                    f"{who}{tested}")  # fmt: skip
            text = Text.assemble(s.description, "\n", (meta, "dim"))
        self.query_one("#strategy-detail", Static).update(text)

    @on(Input.Changed, "#strategy-search")
    @on(Select.Changed, "#strategy-sort")
    def _filters_changed(self) -> None:
        self.load_strategies()

    async def action_search(self) -> None:
        await self._built()
        self.query_one("#strategy-search", Input).focus()

    async def action_sort(self) -> None:
        await self._built()
        select = self.query_one("#strategy-sort", Select)
        order = [v for _, v in SORTS]
        select.value = order[(order.index(str(select.value)) + 1) % len(order)]

    # -- deploying ----------------------------------------------------------------------------

    def _deployable(self) -> Deployable | None:
        if self.tab == "templates":
            t = self._templates.get(self._key("#template-table") or "")
            return None if t is None else self._from_template(t)
        s = self._strategies.get(self._key("#strategy-table") or "")
        if s is None:
            return None
        if s.config is None or not (s.is_mine or s.owned):
            self.notify(f"Buy {s.name!r} first (b).", severity="warning")
            return None
        return self._from_strategy(s)

    def _from_template(self, t: TemplateView) -> Deployable:
        async def check(name: str, cfg: dict[str, Any], risk: dict[str, Any]) -> BotDraft:
            return templates.template_draft(t, name=name, config=cfg, risk_settings=risk)

        async def create(session: Any, name: str, cfg: dict[str, Any], risk: dict[str, Any]):
            return await templates.deploy_template(session, self.actor, t.id, name=name,
                                                   config=cfg, risk_settings=risk,
                                                   clock=self.clock)  # fmt: skip

        return Deployable(t.name, t.type, t.config, t.risk_settings, check, create)

    def _from_strategy(self, s: StrategyView) -> Deployable:
        stored = s.config or {}
        if s.type == "bot_config":
            bot_type, base = stored["bot_type"], stored["config"]
        else:
            bot_type = "signal"
            base = {"symbol": stored.get("symbol", "BTC/USDT"),
                    "timeframe": stored.get("timeframe", "1h")}  # fmt: skip

        async def check(name: str, cfg: dict[str, Any], risk: dict[str, Any]) -> BotDraft:
            async with self.db.session() as session:
                return await market.strategy_draft(session, self.actor, s.id, name=name,
                                                   config=cfg, risk_settings=risk)  # fmt: skip

        async def create(session: Any, name: str, cfg: dict[str, Any], risk: dict[str, Any]):
            return await market.deploy_strategy(session, self.actor, s.id, name=name,
                                                config=cfg, risk_settings=risk,
                                                clock=self.clock)  # fmt: skip

        return Deployable(s.name, bot_type, base, stored.get("risk_settings") or {}, check, create)

    @work(exclusive=True, group="market-write")
    async def action_deploy(self) -> None:
        item = self._deployable()
        if item is None:
            return
        fields = [Field("name", "Bot name", value=item.title, max_length=100,
                        help="What the bot is called in your bot list.")]  # fmt: skip
        fields += setting_fields(item.bot_type, item.config, item.risk)

        async def submit(values: dict[str, Any]) -> tuple[str, dict, dict, BotDraft]:
            cfg = config_changes(values, item.bot_type, item.config)
            risk = changes(values, item.risk, RISK_PREFIX)
            return values["name"], cfg, risk, await item.check(values["name"], cfg, risk)

        answer = await self.app.push_screen_wait(
            FormModal(
                f"Deploy {item.title}",
                fields,
                submit,
                yes="Next",
                intro="Change what you like; the bot is checked before it is created. "
                "It is a paper bot and starts stopped.",
            )
        )
        if answer is None:
            return
        name, cfg, risk, draft = answer
        changed = ", ".join(f"{k} {v}" for k, v in {**cfg, **risk}.items()) or "nothing"
        symbol = draft.config.get("symbol") or ", ".join(draft.config.get("symbols", []))
        confirmed = await self.app.push_screen_wait(
            ConfirmModal(
                "Create this bot?",
                f"{draft.name}: a paper {draft.type.replace('_', ' ')} bot on {symbol}, from "
                f"{item.title}. Changed: {changed}.",
                yes="Create",
            )
        )
        if not confirmed:
            return

        async def create(session: Any, actor: Any) -> Any:
            return await item.create(session, name, cfg, risk)

        if await self.service(create, write=True) is not None:
            self.notify(f"Bot {draft.name!r} created; start it from your bots.")
            self.load()

    # -- buying and reviewing -----------------------------------------------------------------

    def _strategy(self) -> StrategyView | None:
        return self._strategies.get(self._key("#strategy-table") or "")

    @work(exclusive=True, group="market-write")
    async def action_buy(self) -> None:
        s = self._strategy()
        if s is None:
            return
        if s.is_mine or s.owned:
            self.notify("You already have it; press d to deploy it.")
            return
        question = (
            f"Add {s.name!r} (free) to your strategies?" if s.price == 0
            else f"Buy {s.name!r} for {usd(s.price)}? Your card on file is charged now."
        )  # fmt: skip
        if not await self.app.push_screen_wait(ConfirmModal("Buy strategy", question, yes="Buy")):
            return
        async with billing_for(self.app) as billing:
            bought = await self.call(market.buy_strategy(self.db, self.actor, s.id,
                                                         billing=billing))  # fmt: skip
        if bought is not None:
            self.notify(f"{s.name!r} is yours; press d to deploy it.")
            self.load_strategies()

    @work(exclusive=True, group="market-write")
    async def action_review(self) -> None:
        s = self._strategy()
        if s is None:
            return
        options = [(f"{'★' * n}{'☆' * (5 - n)}  {n}", str(n)) for n in range(5, 0, -1)]

        async def submit(values: dict[str, Any]) -> Any:
            async with self.db.sessions.begin() as session:
                return await market.review_strategy(
                    session, self.actor, s.id, rating=int(values["rating"] or 0),
                    comment=values["comment"], clock=self.clock,
                )  # fmt: skip

        done = await self.app.push_screen_wait(
            FormModal(f"Review {s.name}", [
                Field("rating", "Stars", "select", "5", options),
                Field("comment", "Comment", "area", help="What worked, what didn't (optional)."),
            ], submit, yes="Post review", intro="One review per strategy you bought.")
        )  # fmt: skip
        if done is not None:
            self.notify("Thank you for your review.")
            self.load_strategies()
