"""Referrals: your code to share, how the reward works, who joined with it and what it earned.
c copies the code."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from core.services import referrals
from core.services.referrals import ReferralSummary
from tui.screens.base import BaseScreen
from tui.screens.commerce import money
from tui.widgets.table import Column, KeyedTable, fill_table

COLUMNS = [
    Column("who", "Referred", keep=9, width_min=18),
    Column("status", "Status", 9, keep=8),
    Column("reward", "Reward", 9, keep=7),
    Column("joined", "Joined", 16, keep=5),
    Column("rewarded", "Rewarded", 16, keep=3),
]
STATUS_COLOUR = {"pending": None, "active": "accent", "rewarded": "success"}


def rule(rate_percent: str) -> str:
    return (
        "Someone who registers with your code is pending; they become active with their "
        f"first trade; when they first pay for a plan you earn {rate_percent}% of that payment "
        "as credit, used on your own plan charges."
    )


class ReferralsScreen(BaseScreen):
    CSS_PATH = "referrals.tcss"
    LOAD_AFTER_FIRST_FRAME = True
    BINDINGS = [  # noqa: RUF012
        Binding("c", "copy_code", "Copy code", id="referrals.copy",
                tooltip="Copy your referral code to the clipboard"),
        Binding("ctrl+r", "reload", "Refresh", id="referrals.refresh", show=False),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._summary: ReferralSummary | None = None

    def compose_body(self) -> ComposeResult:
        with Vertical(id="referral-body"):
            yield Static("", id="referral-code")
            yield Static("", id="referral-rule")
            yield Static("", id="referral-counts")
            yield KeyedTable((), id="referral-table")
        yield Static("", id="status", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#referral-table", KeyedTable).focus()

    def action_reload(self) -> None:
        self.load()

    def on_resize(self) -> None:
        # The columns that fit change with the width: the rows already read, fitted again (a
        # reload here read everything twice on a first visit, the first read cancelled).
        if self._summary is not None:
            self.show(self._summary)

    @work(exclusive=True, group="referrals-load")
    async def load(self) -> None:
        summary = await self.service(referrals.referral_summary, write=True, clock=self.clock)
        if summary is not None:
            self._summary = summary
            self.show(summary)

    def show(self, summary: ReferralSummary) -> None:
        code = Text("Your referral code  ")
        code.append(f" {summary.code} ", style="bold reverse")
        code.append("  — new users enter it when they register.", style="dim")
        self.query_one("#referral-code", Static).update(code)
        self.query_one("#referral-rule", Static).update(rule(f"{summary.reward_rate * 100:.0f}"))
        self.query_one("#referral-counts", Static).update(
            f"{len(summary.referrals)} joined · {summary.active} active · {summary.rewarded} "
            f"rewarded · earned {money(summary.earned)} · credit left {money(summary.credit)}"
        )
        rows = [(r.id, {
            "who": self.cell(r.referred),
            "status": self.cell(r.status, STATUS_COLOUR.get(r.status)),
            "reward": self.cell(money(r.reward_amount) if r.reward_amount else "—"),
            "joined": self.cell(self.when(r.created_at)),
            "rewarded": self.cell(self.when(r.rewarded_at)),
        }) for r in summary.referrals]  # fmt: skip
        with self.app.batch_update():
            fill_table(self.query_one("#referral-table", KeyedTable), COLUMNS, rows)
        self.say("" if rows else "Nobody has joined with your code yet. Press c to copy it.")

    def action_copy_code(self) -> None:
        if self._summary is not None:
            self.app.copy_to_clipboard(self._summary.code)
            self.notify(f"Copied {self._summary.code}.")
