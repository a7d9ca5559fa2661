"""Manual order: market or limit, in paper mode (the manual paper wallet, priced by the
simulated market or by any exchange's real public prices) or on one of your exchange
connections. No field has focus when the screen opens, so the number keys keep switching screens
until you tab (or click) into the ticket. Enter asks the trading service for an estimate and shows
it — expected price, cost, fee and the balance it needs — before anything is sent. Recent orders
below, with cancel for the ones still open."""

from __future__ import annotations

from decimal import Decimal

# The first quote's simulated market draws with numpy.random, which numpy imports on first use
# (~30 ms): here it comes with this module, which loads in the warm-up thread.
import numpy.random  # noqa: F401
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static

from core.market.simulated import DEFAULT_SYMBOLS
from core.services import exchanges, trading
from core.services.trading_views import OrderEstimate, OrderView
from tui import format as fmt
from tui.compact import compact, filled
from tui.markets import SIMULATED, paper_market_choices, simulated_choice
from tui.modals.confirm import ConfirmModal
from tui.screens.base import BaseScreen
from tui.widgets.choice import Choice
from tui.widgets.pnl import pnl_markup
from tui.widgets.table import Column, KeyedTable

FIRST_QUOTE = 0.1
"""Seconds from the screen's mount to its first quote."""
NARROW = 100
"""Below this width the ticket has two columns, not four."""
PAPER = "paper:"  # + the market paper orders are priced by (see ``tui.markets``)
SYMBOLS = tuple(s.symbol for s in DEFAULT_SYMBOLS)
ORDER_COLUMNS = (
    Column("time", "Time"),
    Column("symbol", "Symbol"),
    Column("side", "Side"),
    Column("type", "Type"),
    Column("qty", "Qty", right=True),
    Column("price", "Price", right=True),
    Column("filled", "Filled", right=True),
    Column("status", "Status"),
    Column("venue", "Mode", optional=True),
    Column("error", "Note", optional=True),
)


def _held(value: Decimal, asset: str, quote: str) -> str:
    """A balance for reading with its currency: quote to the cent, a coin to 8 decimals."""
    return f"{fmt.money(value) if asset == quote else fmt.amount(value, 8)} {asset}"


def estimate_text(e: OrderEstimate) -> str:
    quote = e.symbol.partition("/")[2] or e.asset
    lines = [
        f"{e.side.upper()} {fmt.quantity(e.quantity)} {e.symbol} · {e.type} · {e.venue}",
        f"Expected price  {fmt.price(e.price)} {quote}",
        f"Notional        {fmt.money(e.notional)} {quote}",
        f"Fee             {fmt.money(e.fee, 4)} {quote} "
        f"({fmt.percent(e.fee_rate * 100, sign=False, places=3)})",
        f"{'Total cost' if e.side == 'buy' else 'You receive'}      {fmt.money(e.total)} {quote}",
    ]
    lines.extend(f"[$warning]{note}[/]" for note in e.adjustments)
    if e.available is not None:
        mark = "" if e.sufficient else "  [b $error]not enough[/]"
        lines.append(f"Available       {_held(e.available, e.asset, quote)}{mark}")
    return "\n".join(lines)


def placed_text(order: OrderView) -> str:
    """What became of a placed order, in words: ``Bought 0.01 BTC at 65,012.50 USDT.``"""
    base, _, quote = order.symbol.partition("/")
    filled = sum((t.executed_price * t.quantity for t in order.trades), Decimal(0))
    at = f" at {fmt.price(filled / order.filled)} {quote}" if order.filled else ""
    if order.status == "filled":
        verb = "Bought" if order.side.lower() == "buy" else "Sold"
        return f"{verb} {fmt.quantity(order.filled)} {base}{at}."
    side = order.side.upper()
    if order.filled:
        return (
            f"{side} {order.symbol}: {fmt.quantity(order.filled)} of "
            f"{fmt.quantity(order.quantity)} {base} filled{at}; the rest is "
            f"{order.status.replace('_', ' ')}."
        )
    limit = f" at {fmt.price(order.price)} {quote}" if order.price is not None else ""
    return f"{side} {fmt.quantity(order.quantity)} {base}{limit}: {order.status.replace('_', ' ')}."


class OrderScreen(BaseScreen):
    CSS_PATH = "order.tcss"
    LIVE_KINDS = frozenset({"trade"})
    LOAD_AFTER_FIRST_FRAME = True
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+b", "side('buy')", "Buy", id="order.buy", tooltip="Set the side to buy"),
        Binding("ctrl+s", "side('sell')", "Sell", id="order.sell", tooltip="Set the side to sell"),
        Binding("ctrl+o", "review", "Review", id="order.review",
                tooltip="Estimate the order and ask before placing it"),
        Binding("x", "cancel_order", "Cancel order", id="order.cancel",
                tooltip="Cancel the selected open order"),
    ]  # fmt: skip

    def compose_body(self) -> ComposeResult:
        self.set_class(self.app.size.width < NARROW, "-narrow")  # before its widgets are styled
        with Grid(id="ticket"):
            yield Label("Venue")
            yield compact(Choice[str](simulated_choice(PAPER), value=PAPER + SIMULATED,
                                      allow_blank=False, id="venue"))  # fmt: skip
            yield Label("Symbol")
            yield filled("BTC/USDT", id="symbol",
                         suggester=SuggestFromList(SYMBOLS, case_sensitive=False))  # fmt: skip
            yield Label("Side")
            yield compact(Choice[str]([("buy", "buy"), ("sell", "sell")], value="buy",
                                      allow_blank=False, id="side"))  # fmt: skip
            yield Label("Type")
            yield compact(Choice[str]([("market", "market"), ("limit", "limit")], value="market",
                                      allow_blank=False, id="type"))  # fmt: skip
            yield Label("Quantity")
            yield compact(Input(placeholder="in the base asset, like 0.01", id="quantity"))
            yield Label("Limit price")
            yield compact(Input(placeholder="limit orders only", id="price", disabled=True))
        yield Static(id="quote", classes="summary")
        with Horizontal(id="order-buttons"):
            yield compact(Button("Review and place (enter)", variant="primary", id="review"))
            yield Static("", id="order-error")
        yield KeyedTable(ORDER_COLUMNS, id="orders")

    def on_mount(self) -> None:
        self.query_one("#orders").border_title = "Recent orders (yours and your bots')"
        self.query_one("#orders").focus()  # never an input: digits still switch screens
        # The first quote a moment after the first frame (a market's first day is built then:
        # the frame and a key pressed meanwhile come first), then one a second.
        self.set_timer(FIRST_QUOTE, self._quote)
        self.set_interval(1.0, self._quote)

    def on_resize(self) -> None:
        self.set_class(self.size.width < NARROW, "-narrow")

    _venues_asked = False

    def load(self) -> None:
        """The recent orders (after the first frame: ``LOAD_AFTER_FIRST_FRAME``); the first
        time, the venues too."""
        if not self._venues_asked:
            self._venues_asked = True
            self._load_connections()
        self._load_orders()

    # -- data ------------------------------------------------------------------------------------

    @work(exclusive=True, group="order-connections")
    async def _load_connections(self) -> None:
        """Paper on every market, then the user's active connections (the choice is kept)."""
        found = await self.call(exchanges.list_connections(self.bbx.db, self.actor)) or []
        connections = [
            (f"{c.venue}{' · ' + c.label if c.label else ''}", c.id) for c in found if c.is_active
        ]
        venue = self.query_one("#venue", Select)
        chosen = venue.value
        venue.set_options(await paper_market_choices(PAPER) + connections)
        venue.value = chosen

    @work(exclusive=True, group="order-list")
    async def _load_orders(self) -> None:
        page = await self.call(trading.list_orders(self.bbx.db, self.actor, limit=30))
        if page is None:
            return
        now = self.bbx.clock.now()
        self.open_orders = {o.id for o in page.items if o.status in ("open", "pending")}
        self.query_one("#orders", KeyedTable).sync(
            (
                o.id,
                (
                    fmt.when(o.created_at, now),
                    o.symbol,
                    o.side.upper(),
                    o.type,
                    fmt.quantity(o.quantity),
                    fmt.price(o.price) if o.price is not None else "market",
                    fmt.quantity(o.filled),
                    o.status,
                    "paper" if o.is_paper else "live",
                    o.error or "",
                ),
            )
            for o in page.items
        )

    open_orders: set[str] = set()  # noqa: RUF012 - replaced per load

    def _quote(self) -> None:
        """The paper symbol's price once a second (from the shared hub's cache: no extra fetch
        when the engine already polls it)."""
        if not self.is_current or self._venue() is not None:
            self.query_one("#quote", Static).update("", layout=False)
            return
        symbol = self.query_one("#symbol", Input).value.strip().upper()
        market = self._market()
        if market is not None or symbol in SYMBOLS:
            self._fetch_quote(symbol, market)

    @work(exclusive=True, group="order-quote")
    async def _fetch_quote(self, symbol: str, market: str | None) -> None:
        try:
            t = await self.bbx.trading.paper_hub(market).ticker(symbol)
        except Exception:
            return
        change = t.change_24h_percent
        self.query_one("#quote", Static).update(
            f"{symbol}  last [b]{fmt.price(t.last)}[/]  bid {fmt.price(t.bid)}  ask "
            f"{fmt.price(t.ask)}  24h {pnl_markup(change, percent=True)}",
            layout=False,  # one line, its room kept (order.tcss): no layout of the screen
        )

    # -- the ticket ------------------------------------------------------------------------------

    def _venue(self) -> str | None:
        """The chosen exchange connection (None: paper)."""
        value = self.query_one("#venue", Select).value
        if value is Select.NULL or str(value).startswith(PAPER):
            return None
        return str(value)

    def _market(self) -> str | None:
        """The exchange whose real prices a paper order uses (None: the simulated market)."""
        value = str(self.query_one("#venue", Select).value)
        market = value.removeprefix(PAPER) if value.startswith(PAPER) else SIMULATED
        return None if market == SIMULATED else market

    @on(Select.Changed, "#type")
    def _type_changed(self, event: Select.Changed) -> None:
        self.query_one("#price", Input).disabled = event.value != "limit"

    def action_side(self, side: str) -> None:
        self.query_one("#side", Select).value = side

    def prefill(self, symbol: str, side: str) -> None:
        """The palette's "order: buy BTC/USDT": the ticket set, the quantity to type."""
        self.query_one("#symbol", Input).value = symbol
        self.action_side(side)
        self.query_one("#quantity", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#review")
    def action_review(self) -> None:
        self._review()

    def _ticket(self) -> dict[str, object]:
        order_type = str(self.query_one("#type", Select).value)
        return {
            "symbol": self.query_one("#symbol", Input).value,
            "side": str(self.query_one("#side", Select).value),
            "type": order_type,
            "quantity": self.query_one("#quantity", Input).value,
            "price": self.query_one("#price", Input).value if order_type == "limit" else None,
            "connection_id": self._venue(),
            "market": self._market(),
        }

    @work(exclusive=True, group="order-review")
    async def _review(self) -> None:
        error = self.query_one("#order-error", Static)
        error.update("")
        ticket = self._ticket()
        refused: list[str] = []
        bbx = self.bbx
        estimate = await self.call(
            trading.estimate_order(bbx.db, self.actor, ctx=bbx.trading, **ticket),  # type: ignore[arg-type]
            refusal=lambda exc: refused.append(str(exc)),
        )
        if estimate is None:
            error.update(f"[$error]{refused[0]}[/]" if refused else "")
            return
        live = ticket["connection_id"] is not None
        title = f"{'LIVE order' if live else 'Paper order'}: {estimate.side} {estimate.symbol}"
        if not await self.app.push_screen_wait(
            ConfirmModal(title, estimate_text(estimate), yes="Place order")
        ):
            return
        order = await self.call(
            trading.place_order(bbx.db, self.actor, ctx=bbx.trading, **ticket),  # type: ignore[arg-type]
            refusal=lambda exc: refused.append(str(exc)),
        )
        if order is None:
            error.update(f"[$error]{refused[0]}[/]" if refused else "")
            return
        self.notify(placed_text(order))
        self.query_one("#quantity", Input).value = ""
        self._load_orders()

    @work(exclusive=True, group="order-cancel")
    async def action_cancel_order(self) -> None:
        key = self.query_one("#orders", KeyedTable).selected_key
        if key is None or key not in self.open_orders:
            self.notify("Select an open order to cancel.", severity="warning")
            return
        if not await self.app.push_screen_wait(
            ConfirmModal("Cancel order", "Cancel the selected open order?", yes="Cancel it")
        ):
            return
        order = await self.call(
            trading.cancel_order(self.bbx.db, self.actor, key, ctx=self.bbx.trading)
        )
        if order is not None:
            self.notify(f"Order {order.status}.")
            self._load_orders()
