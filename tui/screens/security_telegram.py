"""The Telegram tab: pair a Telegram chat with a one-time code (shown once), or unpair it."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from core.services import telegram_links
from tui.modals.confirm import ConfirmModal
from tui.modals.show_once import ShowOnceModal
from tui.screens.security import Pane, when
from tui.service_call import call_service


class TelegramPane(Pane):
    def compose(self) -> ComposeResult:
        yield Static(
            "Control your bots from Telegram (/status, /profit, /forceexit …): make a code and "
            "send it to the BlockbotX bot in a private chat as /start CODE within "
            f"{int(telegram_links.CODE_LIFETIME.total_seconds() // 60)} minutes.",
            classes="pane-help",
        )
        yield Static("", id="telegram-state")
        with Horizontal(classes="pane-buttons"):
            yield Button("Make a pairing code", variant="primary", id="telegram-code")
            yield Button("Unpair", id="telegram-unpair")
        yield Static("", classes="pane-status error")

    @work(exclusive=True, group="telegram")
    async def load(self) -> None:
        bbx = self.bbx
        state = await call_service(
            self,
            telegram_links.link_state(bbx.db, self.actor, clock=bbx.auth.clock),
            ".pane-status",
        )
        if state is None:
            return
        if state.paired:
            text = f"Paired with Telegram chat {state.chat} since {when(state.paired_at)}."
        else:
            text = "No Telegram chat is paired."
        if state.code_expires_at is not None:
            text += f" A code is waiting until {when(state.code_expires_at)}."
        self.query_one("#telegram-state", Static).update(text)
        self.query_one("#telegram-unpair", Button).disabled = not state.paired
        self.loaded()

    @on(Button.Pressed, "#telegram-code")
    @work(exclusive=True, group="telegram")
    async def _make_code(self) -> None:
        bbx = self.bbx
        code = await call_service(
            self,
            telegram_links.new_pairing_code(bbx.db, self.actor, clock=bbx.auth.clock),
            ".pane-status",
        )
        if code is None:
            return
        self.say("")
        await self.app.push_screen_wait(
            ShowOnceModal(
                "Telegram pairing code",
                f"/start {code.code}",
                f"Send this to the BlockbotX bot before {when(code.expires_at)} UTC. It works "
                "once; that chat then acts as you, until you unpair it here.",
            )
        )
        self.load()

    @on(Button.Pressed, "#telegram-unpair")
    @work(exclusive=True, group="telegram")
    async def _unpair(self) -> None:
        if not await self.app.push_screen_wait(
            ConfirmModal(
                "Unpair Telegram",
                "Unpair the Telegram chat? It stops controlling your account at once.",
                yes="Unpair",
            )
        ):
            return
        bbx = self.bbx
        if await call_service(
            self, telegram_links.unpair(bbx.db, self.actor, clock=bbx.auth.clock), ".pane-status"
        ):
            self.notify("Telegram chat unpaired.")
        self.load()
