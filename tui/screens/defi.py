"""DeFi: wallets per chain; staking, farm and liquidity positions with value, APY, rewards and
impermanent loss. Add, rename, (de)activate and remove wallets; open, close and harvest
positions; revalue everything at prices you give.

BlockbotX reads no chain, so prices come from you: every form that values something asks for
the tokens' USD prices, pre-filled with the prices of the last valuation (stablecoins are 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, Select, Static, TabbedContent, TabPane

from core.defi.address import EVM_CHAINS
from core.errors import InvalidInput
from core.services import defi
from core.services.defi import FarmView, LiquidityView, Portfolio, StakingView, WalletView
from core.services.defi_prices import implied_prices, symbols_of
from tui import format as fmt
from tui.modals.confirm import ConfirmModal
from tui.modals.form import Field, FormModal
from tui.screens.base import BaseScreen
from tui.service_call import succeeded
from tui.widgets.late import LateRow, late_value
from tui.widgets.lazy_pane import LazyPane, build_pane
from tui.widgets.table import Cell, Column, KeyedTable, fill_table

CHAIN_OPTIONS = [(c.capitalize() if c != "bsc" else "BSC", c) for c in EVM_CHAINS]
WALLET_COLUMNS = (
    Column("name", "Name", 18, keep=6),
    Column("chain", "Chain", 9, keep=7),
    Column("address", "Address", keep=9, width_min=14),
    Column("kind", "Kind", 8, keep=2),
    Column("active", "Active", 6, keep=5),
    Column("positions", "Positions", 9, keep=3, right=True),
    Column("value", "Value (USD)", 14, keep=8, right=True),
)
STAKING_COLUMNS = (
    Column("wallet", "Wallet", 14, keep=2),
    Column("protocol", "Protocol", 12, keep=6),
    Column("token", "Token", keep=9, width_min=8),
    Column("amount", "Amount", 16, keep=7, right=True),
    Column("rewards", "Rewards", 14, keep=5, right=True),
    Column("apy", "APY", 8, keep=4, right=True),
    Column("value", "Value (USD)", 14, keep=8, right=True),
    Column("status", "Status", 9, keep=3),
)
FARM_COLUMNS = (
    Column("wallet", "Wallet", 14, keep=1),
    Column("protocol", "Protocol", 12, keep=6),
    Column("pair", "Pair", keep=9, width_min=12),
    Column("lp", "LP tokens", 14, keep=2, right=True),
    Column("apy", "APY", 8, keep=5, right=True),
    Column("rewards", "Rewards", 18, keep=7, right=True),
    Column("value", "Value (USD)", 14, keep=8, right=True),
    Column("status", "Status", 9, keep=4),
)
LIQUIDITY_COLUMNS = (
    Column("protocol", "Protocol", 12, keep=5),
    Column("pair", "Pair", keep=9, width_min=12),
    Column("value", "Value (USD)", 13, keep=8, right=True),
    Column("hold", "If held", 13, keep=3, right=True),
    Column("il", "Imp. loss", 12, keep=7, right=True),
    Column("il_pct", "IL %", 8, keep=6, right=True),
    Column("fees", "Fees", 10, keep=1, right=True),
    Column("status", "Status", 8, keep=4),
)
KIND_OF_TAB = {"staking": "staking", "farms": "farm", "liquidity": "liquidity"}


def short_address(address: str) -> str:
    return f"{address[:8]}…{address[-6:]}"


def pct(value: Decimal) -> str:
    return fmt.percent(value, sign=False)


def parse_prices(values: dict[str, Any], symbols: Sequence[str]) -> dict[str, Decimal]:
    """The prices typed in a form (fields ``price_<SYMBOL>``); blanks are left out."""
    prices: dict[str, Decimal] = {}
    for symbol in symbols:
        text = str(values.get(f"price_{symbol}") or "").strip()
        if text:
            prices[symbol] = defi.amount(text.replace(",", ""), f"price_{symbol}")
    return prices


def price_fields(symbols: Sequence[str], known: dict[str, Decimal]) -> list[Field]:
    return [
        Field(
            f"price_{s}",
            f"{s} price (USD)",
            value=format(known[s], "f") if s in known else "",
            placeholder="1 (stablecoin)" if s in defi.STABLECOINS else "required",
            help="The token's current price in US dollars. Stablecoins may be left blank (1).",
        )
        for s in symbols
    ]


# A position of any of the three kinds.
Position = StakingView | FarmView | LiquidityView


class DeFiScreen(BaseScreen):
    CSS_PATH = "defi.tcss"
    AUTO_FOCUS = "#wallets-table"  # focused as the screen first shows: not another control first
    LOAD_AFTER_FIRST_FRAME = True
    BINDINGS = [  # noqa: RUF012
        Binding("w", "tab('wallets')", "Wallets", id="defi.wallets", tooltip="Your wallets"),
        Binding("s", "tab('staking')", "Staking", id="defi.staking", tooltip="Staking positions"),
        Binding("f", "tab('farms')", "Farms", id="defi.farms", tooltip="Farm positions"),
        Binding("l", "tab('liquidity')", "Liquidity", id="defi.liquidity",
                tooltip="Liquidity positions and impermanent loss"),
        Binding("a", "add", "Add", id="defi.add",
                tooltip="Add a wallet, or open a position on the current tab"),
        Binding("e", "edit", "Edit", id="defi.edit", tooltip="Rename or (de)activate the wallet"),
        Binding("d", "remove", "Remove", id="defi.remove",
                tooltip="Stop tracking the wallet (its positions go with it)"),
        Binding("x", "close_position", "Close", id="defi.close",
                tooltip="Unstake / withdraw / remove the selected position"),
        Binding("h", "harvest", "Harvest", id="defi.harvest", tooltip="Collect a farm's rewards"),
        Binding("r", "revalue", "Revalue", id="defi.revalue",
                tooltip="Accrue rewards to now and revalue at current prices"),
        Binding("slash", "filter", "Chain", id="defi.filter", tooltip="Show one chain only"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.wallets: list[WalletView] = []
        self.portfolio: Portfolio | None = None

    def compose_body(self) -> ComposeResult:
        # The chain filter is made after the first frame; the summary, filled by the first
        # load, now.
        yield LateRow(self._filter_fields, Static("", id="summary"), id="filters")
        with TabbedContent(id="tabs"):
            with TabPane("Wallets", id="wallets"):
                yield KeyedTable((), id="wallets-table")
            # The other tabs' tables are built when first shown (``_tab_changed`` fills them).
            yield LazyPane("Staking", partial(KeyedTable, (), id="staking-table"), id="staking")
            yield LazyPane("Farms", partial(KeyedTable, (), id="farms-table"), id="farms")
            yield LazyPane(
                "Liquidity", partial(KeyedTable, (), id="liquidity-table"), id="liquidity"
            )
        yield Static("", id="status", classes="hint")

    @staticmethod
    def _filter_fields() -> ComposeResult:
        yield Label("Chain", classes="filter-label")
        yield Select(CHAIN_OPTIONS, prompt="All chains", id="chain-filter", compact=True)

    @property
    def tab(self) -> str:
        return self.query_one("#tabs", TabbedContent).active or "wallets"

    def table(self, tab: str | None = None) -> KeyedTable:
        return self.query_one(f"#{tab or self.tab}-table", KeyedTable)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        tab = self.tab if self.is_mounted else "wallets"
        if action in ("edit", "remove"):
            return tab == "wallets"
        if action == "close_position":
            return tab != "wallets"
        if action == "harvest":
            return tab == "farms"
        return True

    @on(TabbedContent.TabActivated)
    async def _tab_changed(self) -> None:
        self.refresh_bindings()
        await build_pane(self.query_one("#tabs", TabbedContent).get_pane(self.tab))
        self._show()  # a table built just now gets its rows
        self._hint()

    # --- data ------------------------------------------------------------------------------

    @work(exclusive=True, group="defi-load")
    async def load(self) -> None:
        async def both(session: Any, actor: Any) -> tuple[list[WalletView], Portfolio]:
            return await defi.list_wallets(session, actor), await defi.portfolio(session, actor)

        found = await self.service(both)
        if found is None:
            return
        self.wallets, self.portfolio = found
        self._show()

    def _chain(self) -> str | None:
        value = late_value(self, "#chain-filter")
        return value if isinstance(value, str) else None

    def _show(self) -> None:
        portfolio = self.portfolio
        if portfolio is None:
            return
        chain = self._chain()
        names = {w.id: w.name or short_address(w.address) for w in self.wallets}
        wallets = [w for w in self.wallets if chain in (None, w.chain)]
        staking = [p for p in portfolio.staking if chain in (None, p.chain)]
        farms = [p for p in portfolio.farms if chain in (None, p.chain)]
        liquidity = [p for p in portfolio.liquidity if chain in (None, p.chain)]
        with self.app.batch_update():
            self._fill("wallets", WALLET_COLUMNS, lambda: self._wallet_rows(wallets))
            self._fill("staking", STAKING_COLUMNS,
                       lambda: [(p.id, self._staking_cells(p, names)) for p in staking])  # fmt: skip
            self._fill("farms", FARM_COLUMNS,
                       lambda: [(p.id, self._farm_cells(p, names)) for p in farms])  # fmt: skip
            self._fill("liquidity", LIQUIDITY_COLUMNS,
                       lambda: [(p.id, self._liquidity_cells(p)) for p in liquidity])  # fmt: skip
        visible = Portfolio(tuple(staking), tuple(farms), tuple(liquidity))
        shown: list[Position] = [*staking, *farms, *liquidity]
        active = sum(1 for p in shown if p.status == "active")
        stamps = [p.last_updated for p in shown if p.status == "active"]
        valued = f" · valued {self.when(min(stamps))}" if stamps else ""
        self.query_one("#summary", Static).update(
            f"{len(wallets)} wallet{'s' if len(wallets) != 1 else ''} · {active} active "
            f"position{'s' if active != 1 else ''} · ${fmt.money(visible.total_value_usd)}{valued}"
        )
        self._hint()

    def _fill(
        self,
        tab: str,
        columns: Sequence[Column],
        rows: Callable[[], list[tuple[str, dict[str, Cell]]]],
    ) -> None:
        """A tab's table filled, if its tab has been shown (built)."""
        found = self.query(f"#{tab}-table")
        if found:
            fill_table(found.only_one(KeyedTable), columns, rows())

    def _hint(self) -> None:
        empty = {
            "wallets": (self.wallets, "No wallets yet: press a to add one by its address."),
            "staking": (self.portfolio and self.portfolio.staking, "No staking positions: a opens one."),
            "farms": (self.portfolio and self.portfolio.farms, "No farm positions: a opens one."),
            "liquidity": (self.portfolio and self.portfolio.liquidity, "No liquidity positions: a opens one."),
        }  # fmt: skip
        rows, text = empty[self.tab]
        self.say("" if rows else text)

    def _wallet_rows(self, wallets: list[WalletView]) -> list[tuple[str, dict[str, Cell]]]:
        assert self.portfolio is not None
        counts: dict[str, int] = {}
        values: dict[str, Decimal] = {}
        held: list[Position] = [
            *self.portfolio.staking,
            *self.portfolio.farms,
            *self.portfolio.liquidity,
        ]
        for p in held:
            if p.status != "active":
                continue
            counts[p.wallet_id] = counts.get(p.wallet_id, 0) + 1
            value = p.current_value_usd if isinstance(p, LiquidityView) else p.value_usd
            values[p.wallet_id] = values.get(p.wallet_id, Decimal(0)) + value
        return [
            (
                w.id,
                {
                    "name": self.cell(w.name or "—"),
                    "chain": self.cell(w.chain),
                    "address": self.cell(w.address),
                    "kind": self.cell("managed" if w.managed else "watched"),
                    "active": self.cell(
                        "yes" if w.is_active else "no", None if w.is_active else "warning"
                    ),
                    "positions": self.cell(counts.get(w.id, 0)),
                    "value": self.cell(fmt.money(values.get(w.id, Decimal(0)))),
                },
            )
            for w in wallets
        ]

    def _status(self, status: str) -> Cell:
        return self.cell(status, None if status == "active" else "text-muted")

    def _staking_cells(self, p: StakingView, names: dict[str, str]) -> dict[str, Cell]:
        return {
            "wallet": self.cell(names.get(p.wallet_id, "")),
            "protocol": self.cell(p.protocol),
            "token": self.cell(p.token_symbol),
            "amount": self.cell(fmt.quantity(p.amount)),
            "rewards": self.cell(fmt.quantity(p.rewards.quantize(Decimal("1e-8"))), "profit"),
            "apy": self.cell(pct(p.apy)),
            "value": self.cell(fmt.money(p.value_usd)),
            "status": self._status(p.status),
        }

    def _farm_cells(self, p: FarmView, names: dict[str, str]) -> dict[str, Cell]:
        reward = fmt.quantity(p.rewards_earned.quantize(Decimal("1e-8")))
        return {
            "wallet": self.cell(names.get(p.wallet_id, "")),
            "protocol": self.cell(p.protocol),
            "pair": self.cell(f"{p.token0_symbol}/{p.token1_symbol}"),
            "lp": self.cell(fmt.quantity(p.lp_token_amount)),
            "apy": self.cell(pct(p.apy)),
            "rewards": self.cell(f"{reward} {p.reward_token_symbol or 'USD'}", "profit"),
            "value": self.cell(fmt.money(p.value_usd)),
            "status": self._status(p.status),
        }

    def _liquidity_cells(self, p: LiquidityView) -> dict[str, Cell]:
        loss = p.impermanent_loss > 0
        return {
            "protocol": self.cell(p.protocol),
            "pair": self.cell(f"{p.token0_symbol}/{p.token1_symbol}"),
            "value": self.cell(fmt.money(p.current_value_usd)),
            "hold": self.cell(fmt.money(p.hold_value_usd)),
            "il": self.cell(fmt.money(-p.impermanent_loss, sign=True), "loss" if loss else None),
            "il_pct": self.cell(fmt.percent(p.impermanent_loss_percent), "loss" if loss else None),
            "fees": self.cell(fmt.money(p.fees_earned)),
            "status": self._status(p.status),
        }

    @on(Select.Changed, "#chain-filter")
    def _chain_changed(self) -> None:
        self._show()

    def on_resize(self) -> None:
        self._show()

    # --- actions ---------------------------------------------------------------------------

    async def action_tab(self, tab: str) -> None:
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = tab
        await build_pane(tabs.get_pane(tab))
        self.table(tab).focus()

    async def action_filter(self) -> None:
        await self.query_one(LateRow).build()
        self.query_one("#chain-filter", Select).focus()

    def _known_prices(self) -> dict[str, Decimal]:
        return implied_prices(self.portfolio) if self.portfolio else {}

    def _selected(self) -> str | None:
        return self.table().selected_key

    async def _form(self, title: str, fields: list[Field], submit: Any, **kw: Any) -> Any:
        return await self.app.push_screen_wait(FormModal(title, fields, submit, **kw))

    async def _write(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        async with self.db.sessions.begin() as session:
            return await fn(session, self.actor, *args, **kwargs)

    @work(exclusive=True, group="defi-write")
    async def action_add(self) -> None:
        tab = self.tab
        if tab == "wallets":
            done = await self._form("Add a wallet", wallet_fields(), self._add_wallet,
                                    intro=WALLET_INTRO, yes="Add")  # fmt: skip
        else:
            usable = [w for w in self.wallets if w.is_active]
            if not usable:
                self.notify("Add an active wallet first (w, then a).", severity="warning")
                return
            kind = KIND_OF_TAB[tab]
            fields = position_fields(kind, usable)
            done = await self._form(f"Open a {kind} position", fields,
                                    lambda v: self._open(kind, v), yes="Open")  # fmt: skip
        if done is not None:
            self.notify("Saved.")
            self.load()

    async def _add_wallet(self, v: dict[str, Any]) -> WalletView:
        return await self._write(defi.add_wallet, address=v["address"].strip() or None,
                                 chain=v["chain"] or "", name=v["name"] or None,
                                 private_key=v["private_key"].strip() or None)  # fmt: skip

    async def _open(self, kind: str, v: dict[str, Any]) -> object:
        if not v.get("wallet_id"):
            raise InvalidInput("Choose a wallet.", field="wallet_id")
        clock = self.clock
        if kind == "staking":
            symbol = v["token_symbol"].strip().upper()
            return await self._write(
                defi.open_staking, v["wallet_id"], protocol=v["protocol"],
                token_address=v["token_address"], token_symbol=symbol, amount_=v["amount"],
                apy=v["apy"], prices=parse_prices({"price_" + symbol: v["price"]}, [symbol]),
                clock=clock,
            )  # fmt: skip
        s0, s1 = v["token0_symbol"].strip().upper(), v["token1_symbol"].strip().upper()
        prices = parse_prices({f"price_{s0}": v["price0"], f"price_{s1}": v["price1"]}, [s0, s1])
        common = dict(
            protocol=v["protocol"], lp_token_address=v["lp_token_address"],
            lp_token_amount=v["lp_token_amount"], token0_symbol=s0, token1_symbol=s1,
            token0_amount=v["token0_amount"], token1_amount=v["token1_amount"], clock=clock,
        )  # fmt: skip
        if kind == "farm":
            reward = (v.get("reward_token_symbol") or "").strip().upper() or None
            if reward:
                prices |= parse_prices({f"price_{reward}": v["reward_price"]}, [reward])
            return await self._write(
                defi.open_farm, v["wallet_id"], farm_address=v["farm_address"], apy=v["apy"],
                reward_token_symbol=reward, prices=prices, **common,
            )  # fmt: skip
        return await self._write(
            defi.open_liquidity, v["wallet_id"], pool_address=v["pool_address"], prices=prices,
            **common,
        )  # fmt: skip

    @work(exclusive=True, group="defi-write")
    async def action_edit(self) -> None:
        key = self._selected()
        wallet = next((w for w in self.wallets if w.id == key), None)
        if wallet is None:
            return

        async def save(v: dict[str, Any]) -> WalletView:
            async with self.db.sessions.begin() as session:
                view = await defi.rename_wallet(session, self.actor, wallet.id, v["name"])
                if v["active"] != wallet.is_active:
                    view = await defi.set_wallet_active(session, self.actor, wallet.id, v["active"])
                return view

        fields = [
            Field("name", "Name", value=wallet.name or "", max_length=defi.NAME_MAX,
                  help="A name to recognise the wallet by; empty clears it."),
            Field("active", "Active", "check", wallet.is_active,
                  help="An inactive wallet keeps its positions but takes no new ones."),
        ]  # fmt: skip
        if await self._form(f"Edit wallet {short_address(wallet.address)}", fields, save):
            self.load()

    @work(exclusive=True, group="defi-write")
    async def action_remove(self) -> None:
        key = self._selected()
        wallet = next((w for w in self.wallets if w.id == key), None)
        if wallet is None:
            return
        question = (
            f"Stop tracking {wallet.name or wallet.address} on {wallet.chain}? Its positions are "
            "removed with it" + (" and its private key is destroyed." if wallet.managed else ".")
        )
        if not await self.app.push_screen_wait(
            ConfirmModal("Remove wallet", question, yes="Remove")
        ):
            return
        if await self.call(succeeded(self._write(defi.remove_wallet, wallet.id))):
            self.notify("Wallet removed.")
            self.load()

    def _position(self) -> StakingView | FarmView | LiquidityView | None:
        key, portfolio = self._selected(), self.portfolio
        if key is None or portfolio is None:
            return None
        pools: dict[str, tuple[Position, ...]] = {
            "staking": portfolio.staking, "farms": portfolio.farms, "liquidity": portfolio.liquidity
        }  # fmt: skip
        pool = pools.get(self.tab, ())
        return next((p for p in pool if p.id == key), None)

    @work(exclusive=True, group="defi-write")
    async def action_close_position(self) -> None:
        position = self._position()
        if position is None:
            return
        if position.status != "active":
            self.notify(f"That position is already {position.status}.", severity="warning")
            return
        kind = KIND_OF_TAB[self.tab]
        symbols = symbols_of(Portfolio(
            (position,) if isinstance(position, StakingView) else (),
            (position,) if isinstance(position, FarmView) else (),
            (position,) if isinstance(position, LiquidityView) else (),
        ))  # fmt: skip
        verb = {"staking": "Unstake", "farm": "Withdraw", "liquidity": "Remove liquidity"}[kind]

        async def close(v: dict[str, Any]) -> object:
            return await self._write(defi.close_position, kind, position.id,
                                     parse_prices(v, symbols), clock=self.clock)  # fmt: skip

        if await self._form(f"{verb}", price_fields(symbols, self._known_prices()), close,
                            intro="Rewards accrue up to now and the position is valued a last "
                            "time at these prices.", yes=verb):  # fmt: skip
            self.notify("Position closed.")
            self.load()

    @work(exclusive=True, group="defi-write")
    async def action_harvest(self) -> None:
        position = self._position()
        if not isinstance(position, FarmView):
            return
        symbols = symbols_of(Portfolio((), (position,), ()))

        async def harvest(v: dict[str, Any]) -> Decimal:
            return await self._write(defi.harvest_farm, position.id, parse_prices(v, symbols),
                                     clock=self.clock)  # fmt: skip

        got = await self._form("Harvest farm rewards", price_fields(symbols, self._known_prices()),
                               harvest, yes="Harvest")  # fmt: skip
        if got is not None:
            self.notify(f"Harvested {fmt.quantity(got.quantize(Decimal('1e-8')))} "
                        f"{position.reward_token_symbol or 'USD'}.")  # fmt: skip
            self.load()

    @work(exclusive=True, group="defi-write")
    async def action_revalue(self) -> None:
        if self.portfolio is None:  # not loaded yet (asked for from the palette)
            self.portfolio = await self.service(defi.portfolio)
            if self.portfolio is None:
                return
        symbols = symbols_of(self.portfolio)
        if not symbols:
            self.notify("No active positions to revalue.")
            return

        async def revalue(v: dict[str, Any]) -> Portfolio:
            return await self._write(defi.refresh_positions, parse_prices(v, symbols),
                                     clock=self.clock)  # fmt: skip

        if await self._form("Revalue at current prices", price_fields(symbols, self._known_prices()),
                            revalue, intro=REVALUE_INTRO, yes="Revalue"):  # fmt: skip
            self.notify("Positions revalued.")
            self.load()


WALLET_INTRO = (
    "Track a wallet by its address. Give its private key only for a managed wallet: the key is "
    "kept encrypted in the vault and never shown again."
)
REVALUE_INTRO = (
    "Rewards accrue from APY up to now and every active position is valued at these prices "
    "(pre-filled with the prices of the last valuation)."
)


def wallet_fields() -> list[Field]:
    return [
        Field("address", "Address", placeholder="0x… (EIP-55 checksum checked)", max_length=42,
              help="The wallet's 0x address; mixed case must match its EIP-55 checksum."),
        Field("chain", "Chain", "select", "ethereum", CHAIN_OPTIONS,
              help="The EVM chain the wallet is on."),
        Field("name", "Name", placeholder="optional", max_length=defi.NAME_MAX,
              help="A name to recognise the wallet by."),
        Field("private_key", "Private key", "secret", placeholder="optional: managed wallet",
              max_length=66, help="64 hex digits. Only for a managed wallet; stored encrypted."),
    ]  # fmt: skip


def position_fields(kind: str, wallets: list[WalletView]) -> list[Field]:
    options = [(f"{w.name or short_address(w.address)} ({w.chain})", w.id) for w in wallets]
    head = [Field("wallet_id", "Wallet", "select", wallets[0].id, options,
                  help="The wallet holding the position; addresses are checked on its chain.")]  # fmt: skip
    protocol = Field("protocol", "Protocol", placeholder="e.g. lido, uniswap, pancakeswap",
                     max_length=defi.NAME_MAX, help="The protocol's name.")  # fmt: skip
    apy = Field(
        "apy", "APY %", placeholder="e.g. 4.2", help="Yearly yield in percent (5.25 = 5.25 %)."
    )
    if kind == "staking":
        return [
            *head, protocol,
            Field("token_address", "Token address", placeholder="0x…", max_length=42,
                  help="The staked token's contract address."),
            Field("token_symbol", "Token symbol", placeholder="e.g. ETH", max_length=16),
            Field("amount", "Amount", placeholder="e.g. 1.5", help="How many tokens are staked."),
            apy,
            Field("price", "Token price (USD)", help="The token's current price in US dollars."),
        ]  # fmt: skip
    pair = [
        Field("lp_token_address", "LP token address", placeholder="0x…", max_length=42),
        Field("lp_token_amount", "LP tokens", placeholder="e.g. 12.5"),
        Field("token0_symbol", "Token 0 symbol", placeholder="e.g. WETH", max_length=16),
        Field("token0_amount", "Token 0 amount"),
        Field("price0", "Token 0 price (USD)", help="Blank for a stablecoin (1)."),
        Field("token1_symbol", "Token 1 symbol", placeholder="e.g. USDC", max_length=16),
        Field("token1_amount", "Token 1 amount"),
        Field("price1", "Token 1 price (USD)", help="Blank for a stablecoin (1)."),
    ]  # fmt: skip
    if kind == "farm":
        return [
            *head, protocol,
            Field("farm_address", "Farm address", placeholder="0x…", max_length=42,
                  help="The farm (masterchef) contract address."),
            *pair, apy,
            Field("reward_token_symbol", "Reward token", placeholder="optional, e.g. SUSHI",
                  max_length=16, help="Rewards are counted in USD when no reward token is given."),
            Field("reward_price", "Reward price (USD)", help="Needed when a reward token is given."),
        ]  # fmt: skip
    return [
        *head, protocol,
        Field("pool_address", "Pool address", placeholder="0x…", max_length=42,
              help="The pool (pair) contract address. Full-range constant-product pools."),
        *pair,
    ]  # fmt: skip
