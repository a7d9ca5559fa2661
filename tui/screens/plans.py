"""Plan & billing: the plan in force and what it allows, the plans side by side, usage, the
payment history. u chooses the highlighted plan (cycle, then the price to confirm), c cancels,
n renews now, p opens the card settings (Stripe's billing portal)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Label, Static

from core.billing.plans import PLANS, BillingCycle, Plan, PlanName
from core.services import plans
from core.services.plans import PlanStatus, Quote
from tui.modals.choice import ChoiceModal
from tui.modals.confirm import ConfirmModal
from tui.screens.base import BaseScreen
from tui.screens.commerce import billing_for, count, money, usd
from tui.widgets.table import Column, KeyedTable, fill_table

PLAN_COLUMNS = [
    Column("current", "", 1, keep=9),
    Column("plan", "Plan", 11, keep=9),
    Column("monthly", "Month", 8, keep=8),
    Column("yearly", "Year", 9, keep=3),
    Column("bots", "Bots", 9, keep=6),
    Column("running", "Running", 9, keep=7),
    Column("live", "Live", 5, keep=5),
    Column("candles", "Backtest", 10, keep=4),
    Column("channels", "Chat alerts", keep=2, width_min=12),
]
PAYMENT_COLUMNS = [
    Column("when", "Date", 16, keep=5),
    Column("what", "For", keep=9, width_min=14),
    Column("amount", "Amount", 10, keep=8),
    Column("status", "Status", 10, keep=7),
]
STATUS_COLOUR = {"completed": "success", "failed": "error", "refunded": "warning"}
CHANNELS = ("TELEGRAM", "DISCORD")


def channels_of(plan: Plan) -> str:
    """The chat channels a plan adds to in-app and email (which every plan has)."""
    return ", ".join(c.title() for c in CHANNELS if c in plan.channels) or "—"


def quote_text(q: Quote) -> str:
    lines = [f"{q.description}: {usd(q.list_price)} per {q.cycle.value.removesuffix('ly')}."]
    if q.kind == "resume":
        lines = [f"Resume {q.description}: it renews again at the end of the period."]
    if q.unused_credit:
        lines.append(f"{usd(q.unused_credit)} of your current period is credited.")
    if q.referral_credit:
        lines.append(f"{usd(q.referral_credit)} of referral credit is used.")
    lines.append(
        f"You pay {usd(q.amount)} now with your card on file." if q.amount
        else "There is nothing to pay now."
    )  # fmt: skip
    return " ".join(lines)


class PlansScreen(BaseScreen):
    CSS_PATH = "plans.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("u", "choose", "Choose plan", id="plans.choose",
                tooltip="Subscribe to, upgrade to or switch to the highlighted plan"),
        Binding("c", "cancel_plan", "Cancel plan", id="plans.cancel",
                tooltip="Stop renewing; the plan stays until the end of the period"),
        Binding("n", "renew", "Renew", id="plans.renew", tooltip="Pay for the next period now"),
        Binding("p", "card", "Card", id="plans.card",
                tooltip="Add or change your card (Stripe's billing portal)"),
        Binding("ctrl+r", "reload", "Refresh", id="plans.refresh", show=False),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._status: PlanStatus | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="plan-body"):
            yield Static("", id="plan-summary")
            yield KeyedTable((), id="plan-table")
            yield Static("", id="usage")
            yield Label("Payments", classes="section")
            yield KeyedTable((), id="payment-table")
        yield Static("", id="status", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#plan-table", KeyedTable).focus()

    def action_reload(self) -> None:
        self.load()

    def on_resize(self) -> None:
        self.load()  # the columns that fit change with the width

    @work(exclusive=True, group="plans-load")
    async def load(self) -> None:
        status = await self.service(plans.plan_status, clock=self.clock)
        paid = await self.service(plans.list_payments, limit=50)
        if status is None or paid is None:
            return
        self._status = status
        self._summary(status)
        current = status.plan.name
        rows = [(p.name.value, {
            "current": self.cell("●" if p.name is current else "", "accent"),
            "plan": self.cell(p.title, bold=p.name is current),
            "monthly": self.cell(usd(p.monthly_price)),
            "yearly": self.cell(usd(p.yearly_price)),
            "bots": self.cell(count(p.bots)),
            "running": self.cell(count(p.active_bots)),
            "live": self.cell("yes" if p.live_trading else "no"),
            "candles": self.cell(count(p.backtest_candles)),
            "channels": self.cell(channels_of(p)),
        }) for p in PLANS.values()]  # fmt: skip
        payments = [(p.id, {
            "when": self.cell(self.when(p.created_at)),
            "what": self.cell(p.description),
            "amount": self.cell(money(p.amount)),
            "status": self.cell(p.status, STATUS_COLOUR.get(p.status)),
        }) for p in paid]  # fmt: skip
        table = self.query_one("#plan-table", KeyedTable)
        first = table.row_count == 0
        with self.app.batch_update():
            fill_table(table, PLAN_COLUMNS, rows)
            if first:  # start on the plan in force
                table.move_cursor(row=list(PLANS).index(current))
            fill_table(self.query_one("#payment-table", KeyedTable), PAYMENT_COLUMNS, payments)
        self.say("" if paid else "No payments yet.")

    def _summary(self, status: PlanStatus) -> None:
        plan, sub, used = status.plan, status.subscription, status.usage
        text = Text(f"{plan.title} plan", style="bold")
        if plan.name is not PlanName.FREE and sub is not None:
            end = self.when(sub.expires_at)
            state = (
                f"complimentary until {end} ({sub.grant_reason})" if sub.is_complimentary
                else f"cancelled · ends {end}" if sub.status == "cancelled"
                else f"{sub.billing_cycle} · {usd(sub.amount)} · renews {end}"
            )  # fmt: skip
            text.append(f" · {state}")
        if status.referral_credit:
            text.append(f" · referral credit {money(status.referral_credit)}", style="green")
        self.query_one("#plan-summary", Static).update(text)
        self.query_one("#usage", Static).update(
            f"You use {used.bots} of {count(plan.bots)} bots, {used.active_bots} of "
            f"{count(plan.active_bots)} running, {used.live_bots} live."
        )

    # -- actions --------------------------------------------------------------------------------

    @work(exclusive=True, group="plans-write")
    async def action_choose(self) -> None:
        key = self.query_one("#plan-table", KeyedTable).selected_key
        if key is None or self._status is None:
            return
        target = PLANS[PlanName(key)]
        if target.name is PlanName.FREE:
            self.notify("To go back to Free, cancel your plan (c): it stays until it ends.")
            return
        sub = self._status.subscription
        cycle = await self.app.push_screen_wait(
            ChoiceModal(
                f"{target.title}: billing cycle",
                [
                    (f"Monthly  {usd(target.monthly_price)}", BillingCycle.MONTHLY.value),
                    (
                        f"Yearly   {usd(target.yearly_price)} (two months free)",
                        BillingCycle.YEARLY.value,
                    ),
                ],
                current=sub.billing_cycle if sub else None,
            )
        )
        if cycle is None:
            return
        quote = await self.service(plans.quote_plan, key, cycle, clock=self.clock)
        if quote is None:
            return
        yes = "Pay" if quote.amount else "Confirm"
        text = quote_text(quote)
        if target.rank < self._status.plan.rank:
            text += f" Running bots beyond the {target.title} plan's limits are paused."
        if not await self.app.push_screen_wait(
            ConfirmModal(f"Choose {target.title}", text, yes=yes)
        ):
            return
        async with billing_for(self.app) as billing:
            view = await self.call(plans.choose_plan(self.db, self.actor, key, cycle,
                                                     billing=billing))  # fmt: skip
        if view is not None:
            self.notify(f"You are on the {target.title} plan.")
        self.load()

    @work(exclusive=True, group="plans-write")
    async def action_cancel_plan(self) -> None:
        status = self._status
        if status is None or status.subscription is None or status.plan.name is PlanName.FREE:
            self.notify("You are on the Free plan; there is nothing to cancel.")
            return
        end = self.when(status.subscription.expires_at)
        question = (f"Your {status.plan.title} plan stays until {end}; then you are on Free, and "
                    "running bots beyond its limit are paused.")  # fmt: skip
        if not await self.app.push_screen_wait(
            ConfirmModal("Cancel your plan?", question, yes="Cancel plan")
        ):
            return
        if await self.service(plans.cancel, write=True, clock=self.clock) is not None:
            self.notify(f"Cancelled; {status.plan.title} stays until {end}.")
        self.load()

    @work(exclusive=True, group="plans-write")
    async def action_renew(self) -> None:
        status = self._status
        sub = status.subscription if status else None
        if status is None or sub is None or status.plan.name is PlanName.FREE:
            self.notify("Choose a plan first (u).")
            return
        question = (f"Pay {usd(status.plan.price(BillingCycle(sub.billing_cycle)))} now for "
                    f"another {sub.billing_cycle.removesuffix('ly')} of {status.plan.title}?")  # fmt: skip
        if not await self.app.push_screen_wait(ConfirmModal("Renew now", question, yes="Pay")):
            return
        async with billing_for(self.app) as billing:
            view = await self.call(plans.renew(self.db, self.actor, billing=billing))
        if view is not None:
            self.notify(f"Renewed until {self.when(view.expires_at)}.")
        self.load()

    @work(exclusive=True, group="plans-write")
    async def action_card(self) -> None:
        async with billing_for(self.app) as billing:
            url: Any = await self.call(plans.billing_portal_url(self.db, self.actor,
                                                                billing=billing))  # fmt: skip
        if url:
            self.say(f"Add or change your card at: {url}")
            self.notify("The link to your card settings is under the tables.")
