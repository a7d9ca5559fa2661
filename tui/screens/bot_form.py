"""Create or edit a bot: the form of its type's settings and its risk settings, generated from
their pydantic models (defaults filled in, each setting's description as help), or prefilled
from a template. Saving asks the bots service, which validates with the same models; a field it
names is marked and focused, and nothing is created until everything is right."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from core.errors import InvalidInput, ServiceError
from core.services import bots, exchanges, templates
from core.services.bot_views import BotSpec, BotUpdate, BotView
from core.services.templates import TemplateView
from core.strategies.registry import BOT_CONFIGS, get, list_strategies
from core.strategies.risk import RiskSettings
from tui.compact import compact, filled
from tui.config_fields import ConfigField, FormValueError, as_form_value, fields_for, read
from tui.markets import SIMULATED, paper_market_choices, simulated_choice
from tui.screens.base import BaseScreen
from tui.widgets.choice import Choice
from tui.widgets.rows_field import RowsField

TYPE_HELP = {
    "dca": "Dollar-cost averaging: buys on a schedule and down a ladder, sells at a target.",
    "signal": "Trades a built-in technical rule, or a signal provider you follow.",
    "ai": "A model trained on the pair's candles predicts the move and trades on it.",
    "grid": "Buys and sells on a ladder of price levels between two bounds.",
    "arbitrage": "Buys on one market and sells on another when the spread pays the fees.",
    "pump_screener": "Watches pairs for sudden price and volume rises; may buy on them.",
}
SECTIONS = {"cfg": "config", "risk": "risk_settings", "ind": "config.indicator"}
SETTINGS_TOP = 25
"""The form's line of its first setting row's control on a new bot's form (the title, the bot's
own rows and the section titles above it, laid out 120 wide); an edited bot has no paper,
prices and balance rows (``EDIT_RISE`` lines fewer)."""
EDIT_RISE = 10
ROW_LINES = 3
"""A setting row's height: its margin, its control and one line of help (more when it wraps)."""
CHROME_LINES = 3
"""The screen's lines around the form: header, nav bar, footer."""
REST_AFTER = 0.05
"""Seconds after the first frame when the rest of the form is laid."""


def first_rows(height: int, *, editing: bool) -> int:
    """How many setting rows the first screenful of a terminal ``height`` lines tall shows
    (none at 24 lines, 4 at 40 for a new bot): they are on the first frame; the rest, the risk
    settings and the buttons below them are laid ``REST_AFTER`` seconds after it. Narrower
    terminals wrap help onto more lines and show fewer, never more."""
    top = SETTINGS_TOP - (EDIT_RISE if editing else 0)
    last = height - CHROME_LINES - 1  # the form's last line on screen
    return max(0, (last - top) // ROW_LINES + 1)


STRATEGY_KEY = "indicator"
"""A signal bot's strategy: a choice of strategy, then a field per parameter it declares."""


def _is_strategy(prefix: str, field: ConfigField, form: BotFormScreen) -> bool:
    return prefix == "cfg" and field.key == STRATEGY_KEY and form.bot_type == "signal"


@dataclass(frozen=True, slots=True)
class FormSource:
    """What the form starts from: nothing (a new bot), a bot (edit) or a template (deploy)."""

    bot: BotView | None = None
    template: TemplateView | None = None


def _noun(field: ConfigField) -> str:
    """One row of a list setting: ``levels`` → ``level``, ``take_profit_levels`` → ``take
    profit level``."""
    words = field.label.lower()
    return words[:-1] if words.endswith("s") else words


def _help(field: ConfigField) -> str:
    if field.kind != "rows":
        return field.help
    columns = " ".join(f"{c.label}: {c.help}" for c in field.columns if c.help)
    return f"{field.help} {columns}".strip()


def _control(prefix: str, field: ConfigField, value: Any) -> Widget:
    wid = f"{prefix}-{field.key}"
    if field.kind == "rows":
        columns = tuple((c.key, c.label) for c in field.columns)
        rows = value if isinstance(value, list) else []
        return RowsField(columns, rows, noun=_noun(field), id=wid)
    if field.kind == "bool":
        return compact(Checkbox("yes", value=bool(value), id=wid))
    if field.kind == "choice":
        return compact(
            Choice[str](
                ((c, c) for c in field.choices),
                value=value if value in field.choices else Select.NULL,
                allow_blank=not field.required,
                prompt="default" if field.default is None else f"default: {field.default}",
                id=wid,
            )
        )
    placeholder = (
        "required"
        if field.required
        else (f"default: {field.default}" if field.default not in (None, "") else "empty: none")
    )
    return filled("" if value is None else str(value), placeholder=placeholder, id=wid)


def say(target: Static, message: str) -> None:
    target.update(message)
    target.set_class(bool(message), "-shown")


def say_under(row: Widget, message: str) -> None:
    """``message`` under a row's control; its error line is made when first needed (most rows
    never need one, and each widget more is paid for on the form's first frame)."""
    lines = row.query(".field-error").results(Static)
    line = next(lines, None)
    if line is not None:
        say(line, message)
    elif message:
        row.query_one(".field-body").mount(Static(message, classes="field-error -shown"))


class FieldRow(Horizontal):
    """One setting: its name, its control and its help text underneath."""

    def __init__(self, prefix: str, field: ConfigField, value: Any) -> None:
        super().__init__(classes="field-row", id=f"row-{prefix}-{field.key}")
        self.prefix, self.field, self.value = prefix, field, value

    def compose(self) -> ComposeResult:
        yield Label(self.field.label + (" *" if self.field.required else ""), classes="field-label")
        with Vertical(classes="field-body"):
            yield _control(self.prefix, self.field, self.value)
            if _help(self.field):
                yield Static(_help(self.field), classes="field-help", markup=False)

    def raw(self) -> Any:
        control = self.query_one(f"#{self.prefix}-{self.field.key}")
        if isinstance(control, Select):
            return None if control.value is Select.NULL else control.value
        return control.value  # type: ignore[attr-defined]

    def mark(self, message: str) -> None:
        say_under(self, message)
        self.set_class(bool(message), "-invalid")

    def point(self, row: int | None = None, column: str | None = None) -> None:
        """Focus the control (a rows field: the row's cell that is wrong)."""
        control = self.query_one(f"#{self.prefix}-{self.field.key}")
        if isinstance(control, RowsField):
            control.focus_cell(row, column)
        else:
            control.focus()
        self.scroll_visible()


class BotFormScreen(BaseScreen[str | None]):
    """``FormSource()`` creates, ``FormSource(bot=…)`` edits, ``FormSource(template=…)`` deploys."""

    CSS_PATH = "bot_form.tcss"
    # The name field first: Textual's default would focus the scrolling form, and then moving
    # to the name restyles the whole form twice (focus and blur restyle a widget's subtree).
    AUTO_FOCUS = "#name"
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Save", id="bot-form.save", tooltip="Check and save the bot"),
        Binding("escape", "cancel", "Cancel", id="bot-form.cancel", tooltip="Leave without saving"),
    ]

    def __init__(self, source: FormSource | None = None) -> None:
        super().__init__()
        self.source = source or FormSource()
        bot, template = self.source.bot, self.source.template
        self.bot_type = bot.type if bot else template.type if template else "dca"
        self.values: dict[str, dict[str, Any]] = {
            "cfg": dict(bot.config if bot else template.config if template else {}),
            "risk": dict(bot.risk_settings if bot else template.risk_settings if template else {}),
        }
        self.fields: dict[str, list[ConfigField]] = {}
        self.laid = False
        """Every row mounted (the rows below the first screenful come a moment later)."""
        self._rest: tuple[str, list[Widget]] = (self.bot_type, [])
        """(the bot type, its setting rows below the first screenful), laid by ``_lay_rest``."""
        self._connections: list[tuple[str, str]] = []
        """The user's exchange connections, for the live bots' row when it is made."""

    @property
    def editing(self) -> bool:
        return self.source.bot is not None

    def compose_body(self) -> ComposeResult:
        bot, template = self.source.bot, self.source.template
        title = (
            f"Edit {bot.name}"
            if bot
            else f"New bot from “{template.name}”"
            if template
            else "New bot"
        )
        with VerticalScroll(id="form"):
            yield Static(f"[b]{title}[/]  [dim]ctrl+s saves · esc cancels[/]", id="form-title")
            yield Static("", id="form-error", classes="field-error")
            yield Static("Bot", classes="section")
            name = bot.name if bot else f"{template.name}" if template else ""
            yield self._row("name", "Name *", filled(name, id="name", max_length=100))
            description = (
                bot.description if bot else template.description if template else ""
            ) or ""
            yield self._row("description", "Description", filled(description, id="description"))
            yield self._row(
                "type",
                "Type",
                compact(
                    Choice[str](
                        ((t, t) for t in BOT_CONFIGS),
                        value=self.bot_type,
                        allow_blank=False,
                        id="type",
                        disabled=self.editing or template is not None,
                    )
                ),
                help_id="type-help",
                help=TYPE_HELP.get(self.bot_type, ""),
            )
            if not self.editing:
                paper = template.paper_trading if template else True
                yield self._row(
                    "paper", "Paper trading", compact(Checkbox("yes", value=paper, id="paper")),
                    help="On: the simulated market with a paper wallet. Off: a live exchange.",
                )  # fmt: skip
                yield self._row(
                    "market",
                    "Prices",
                    compact(Choice[str](simulated_choice(), value=SIMULATED, allow_blank=False,
                                        id="market")),
                    help="Paper bots trade on the simulated market or on an exchange's real "
                    "prices and candles (public data: no keys).",
                )  # fmt: skip
                yield self._row(
                    "balance",
                    "Starting balance",
                    filled("10000", id="balance"),
                    help="Quote currency (USDT) in the bot's paper (simulation) wallet.",
                )
            yield Static(f"Settings of a {self.bot_type} bot", id="cfg-title", classes="section")
            rows = self._setting_rows("cfg")
            shown = first_rows(self.app.size.height, editing=self.editing)
            self._rest = (self.bot_type, rows[shown:])
            with Vertical(id="cfg-fields"):
                yield from rows[:shown]
            # The risk settings and the buttons below them: laid by ``_lay_rest``.

    def _row(
        self, key: str, label: str, control: Widget, *, help: str = "", help_id: str | None = None
    ) -> Horizontal:
        body = [control]
        if help or help_id:
            body.append(Static(help, classes="field-help", id=help_id, markup=False))
        return Horizontal(
            Label(label, classes="field-label"),
            Vertical(*body, classes="field-body"),
            classes="field-row",
            id=f"row-{key}",
        )

    def on_mount(self) -> None:
        self._connection_visible()
        self.query_one("#name", Input).focus()
        # Below the first screenful: laid just after the first frame, which they would make
        # several times slower (the new DCA bot's first frame has 4 of its 28 setting rows).
        # A moment after it, not at once: the frame is written and a key pressed meanwhile is
        # handled first.
        self.call_after_refresh(self.set_timer, REST_AFTER, self._start_rest)

    @work(exclusive=True, group="bot-form-markets")
    async def _load_markets(self) -> None:
        market = self.query_one("#market", Select)
        chosen = market.value
        market.set_options(await paper_market_choices())
        market.value = chosen

    def _setting_rows(self, prefix: str) -> list[Widget]:
        """A row per setting of the bot type's config (``cfg``) or of its risk settings."""
        model = BOT_CONFIGS[self.bot_type] if prefix == "cfg" else RiskSettings
        fields = fields_for(model)
        stored = self.values[prefix]
        rows: list[Widget] = []
        for f in fields:
            if _is_strategy(prefix, f, self):
                rows.append(Vertical(id="strategy-fields"))
                continue
            value = as_form_value(f.kind, stored[f.key]) if f.key in stored else f.default
            rows.append(FieldRow(prefix, f, value))
        self.fields[prefix] = [f for f in fields if not _is_strategy(prefix, f, self)]
        return rows

    def _start_rest(self) -> None:
        self._lay_rest()
        if not self.editing:  # their choices arrive when they arrive: the simulated one is shown
            self._load_connections()
            self._load_markets()

    @work(group="bot-form-rest")
    async def _lay_rest(self) -> None:
        """The settings after the first screenful: the rest of the type's, the chosen
        strategy's, then the risk settings and the buttons."""
        bot_type, rest = self._rest
        if rest and bot_type == self.bot_type:  # else another type's rows replaced them all
            await self.query_one("#cfg-fields", Vertical).mount_all(rest)
        await self._lay_chosen_strategy()
        await self.query_one("#form", VerticalScroll).mount_all(
            (
                Static("Risk and exits", classes="section"),
                Vertical(*self._setting_rows("risk"), id="risk-fields"),
                Horizontal(
                    Button("Save (ctrl+s)", variant="primary", id="save"),
                    Button("Cancel (esc)", id="cancel"),
                    id="form-buttons",
                ),
            )
        )
        self.laid = True

    async def _lay_settings(self) -> None:
        """The settings of another bot type (the risk settings are the same for all)."""
        self.query_one("#cfg-title", Static).update(f"Settings of a {self.bot_type} bot")
        self.fields.pop("ind", None)
        box = self.query_one("#cfg-fields", Vertical)
        await box.remove_children()
        await box.mount_all(self._setting_rows("cfg"))
        await self._lay_chosen_strategy()

    async def _lay_chosen_strategy(self) -> None:
        if self.query("#strategy-fields"):
            chosen = self.values["cfg"].get(STRATEGY_KEY)
            chosen = dict(chosen) if isinstance(chosen, dict) else {"name": "sma_cross"}
            await self._lay_strategy(str(chosen.pop("name", "sma_cross")), chosen)

    async def _lay_strategy(self, name: str, stored: dict[str, Any]) -> None:
        """The strategy choice and one field per parameter the chosen strategy declares."""
        known = {s.name: s for s in list_strategies()}
        if name not in known:
            name = "sma_cross"  # not installed on this machine: choosing again is the way out
        fields = [f for f in fields_for(get(name).params_model()) if f.key != "name"]
        self.fields["ind"] = fields
        box = self.query_one("#strategy-fields", Vertical)
        await box.remove_children()
        choice = compact(
            Choice[str](
                ((f"{n} · {s.source}" if s.source != "built-in" else n, n)
                 for n, s in known.items()),
                value=name,
                allow_blank=False,
                id="ind-name",
            )
        )  # fmt: skip
        await box.mount(
            self._row("ind-name", "Strategy", choice, help=known[name].description),
            *(
                FieldRow("ind", f, as_form_value(f.kind, stored[f.key]) if f.key in stored else f.default)
                for f in fields
            ),
        )  # fmt: skip

    @on(Select.Changed, "#ind-name")
    async def _strategy_changed(self, event: Select.Changed) -> None:
        current = self.values["cfg"].get(STRATEGY_KEY)
        if event.value is Select.NULL or (
            isinstance(current, dict) and current.get("name") == event.value
        ):
            return
        self.values["cfg"][STRATEGY_KEY] = {"name": str(event.value)}
        await self._lay_strategy(str(event.value), {})

    @on(Select.Changed, "#type")
    async def _type_changed(self, event: Select.Changed) -> None:
        if event.value is Select.NULL or event.value == self.bot_type:
            return
        self.bot_type = str(event.value)
        self.values["cfg"] = {}
        self.query_one("#type-help", Static).update(TYPE_HELP.get(self.bot_type, ""))
        await self._lay_settings()

    @on(Checkbox.Changed, "#paper")
    def _paper_changed(self) -> None:
        self._connection_visible()

    def _connection_visible(self) -> None:
        """Paper bots choose their prices; live bots an exchange connection (its row is made
        the first time paper trading is switched off: a new bot starts on paper)."""
        if self.editing:
            return
        paper = self.query_one("#paper", Checkbox).value
        self.query_one("#row-market").display = paper
        row = next(iter(self.query("#row-connection")), None)
        if row is not None:
            row.display = not paper
        elif not paper:
            choice = compact(
                Choice[str](self._connections, prompt="choose a connection", id="connection")
            )
            help = "Live bots trade on one of your exchange connections."
            row = self._row("connection", "Exchange", choice, help=help)
            self.query_one("#form").mount(row, after="#row-market")

    @work(exclusive=True, group="bot-form-connections")
    async def _load_connections(self) -> None:
        found = await self.call(exchanges.list_connections(self.bbx.db, self.actor))
        if found:
            self._connections = [
                (f"{c.venue}{' · ' + c.label if c.label else ''}", c.id) for c in found
            ]
            for choice in self.query("#connection").results(Select):
                choice.set_options(self._connections)

    # -- saving -----------------------------------------------------------------------------------

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss()

    def _settings(self) -> dict[str, dict[str, Any]] | None:
        if not self.laid:
            return None  # the form is still being laid out (a moment after it shows)
        out: dict[str, dict[str, Any]] = {}
        for prefix in [p for p in ("cfg", "risk", "ind") if p in self.fields]:
            fields = self.fields[prefix]
            rows = {
                row.field.key: row
                for row in self.query(FieldRow).results(FieldRow)
                if row.prefix == prefix
            }
            try:
                out[prefix] = read(fields, {key: row.raw() for key, row in rows.items()})
            except FormValueError as exc:
                where = [SECTIONS[prefix], exc.key]
                if exc.row is not None:
                    where += [str(exc.row), exc.column or ""]
                self._mark(".".join(where).rstrip("."), str(exc))
                return None
        if "ind" in out:
            name = self.query_one("#ind-name", Select).value
            out["cfg"][STRATEGY_KEY] = {"name": str(name), **out.pop("ind")}
        return out

    def _clear_marks(self) -> None:
        for row in self.query(FieldRow).results(FieldRow):
            row.mark("")
        for error in self.query(".field-error").results(Static):
            say(error, "")

    def _mark(self, field: str | None, message: str) -> None:
        """Show ``message`` at the field the service named (``config.slow``), or on top."""
        section, _, key = (field or "").partition(".")
        prefix = {v: k for k, v in SECTIONS.items()}.get(section)
        if section == "config" and key.split(".")[0] == STRATEGY_KEY and self.query("#ind-name"):
            # config.indicator.<strategy>[.<parameter>]: the parameter's field, else the choice
            prefix, key, section = "ind", key.split(".")[-1], "ind-name"
            declared = [f.key for f in self.fields.get("ind", [])]
            if key not in declared:  # a message about a parameter starts with its label
                labels = {f.label: f.key for f in self.fields.get("ind", [])}
                key = next((k for lab, k in labels.items() if message.startswith(f"{lab} ")), "")
        key, _, rest = key.partition(".")
        row_text, _, column = rest.partition(".")
        at_row = int(row_text) if row_text.isdigit() else None
        target = None
        if prefix and key:
            target = next(
                (r for r in self.query(FieldRow).results(FieldRow)
                 if r.prefix == prefix and r.field.key == key), None,
            )  # fmt: skip
        if target is not None:
            target.mark(message)
            target.point(at_row, column.split(".")[0] or None)
        elif section and self.query(f"#row-{section}"):
            row = self.query_one(f"#row-{section}")
            say_under(row, message)
            row.scroll_visible()
        else:
            say(self.query_one("#form-error", Static), message)
            self.query_one("#form").scroll_home()

    def action_save(self) -> None:
        self._clear_marks()
        settings = self._settings()
        if settings is not None:
            self._submit(settings["cfg"], settings["risk"])

    @work(exclusive=True, group="bot-form-save")
    async def _submit(self, config: dict[str, Any], risk: dict[str, Any]) -> None:
        bot_id = await self.call(self._store(config, risk), refusal=self._refused)
        if bot_id is not None:
            self.notify(f"Saved {self.query_one('#name', Input).value.strip()}.")
            self.dismiss(bot_id)

    def _refused(self, exc: ServiceError) -> None:
        self._mark(exc.field if isinstance(exc, InvalidInput) else None, str(exc))

    async def _store(self, config: dict[str, Any], risk: dict[str, Any]) -> str:
        """Create, update or deploy in one transaction; the bot's id."""
        name = self.query_one("#name", Input).value
        description = self.query_one("#description", Input).value
        actor, clock = self.actor, self.bbx.clock
        async with self.bbx.db.sessions.begin() as session:
            if self.source.bot is not None:
                changes = BotUpdate(name=name, description=description, config=config,
                                    risk_settings=risk)  # fmt: skip
                return (await bots.update_bot(session, actor, self.source.bot.id, changes,
                                              clock=clock)).id  # fmt: skip
            paper = self.query_one("#paper", Checkbox).value
            connection = next(self.query("#connection").results(Select), None)
            connection_id = (
                None
                if paper or connection is None or connection.value is Select.NULL
                else str(connection.value)
            )
            market = str(self.query_one("#market", Select).value)
            paper_market = market if paper and market != SIMULATED else None
            balance = self._balance()
            if self.source.template is not None:
                deployed = await templates.deploy_template(
                    session, actor, self.source.template.id, name=name, config=config,
                    risk_settings=risk, paper_trading=paper, initial_balance=balance,
                    exchange_connection_id=connection_id, clock=clock,
                )  # fmt: skip
                return deployed.bot_id
            spec = BotSpec(name=name, type=self.bot_type, config=config, risk_settings=risk,
                           description=description or None, paper_trading=paper,
                           initial_balance=balance, exchange_connection_id=connection_id,
                           paper_market=paper_market)  # fmt: skip
            return (await bots.create_bot(session, actor, spec, clock=clock)).id

    def _balance(self) -> Decimal:
        text = self.query_one("#balance", Input).value.strip().replace(",", "")
        try:
            return Decimal(text)
        except InvalidOperation:
            raise InvalidInput(
                "The starting balance must be a number, like 10000.", field="balance"
            ) from None
