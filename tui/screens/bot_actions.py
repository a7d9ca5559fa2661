"""The bot lifecycle as keys, shared by the bot list and the bot page: start, pause / resume,
stop (optionally closing its positions), edit and delete, each asking first where it matters."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.binding import Binding

from core.services import bots
from tui.modals.confirm import ConfirmModal
from tui.modals.stop_bot import StopBotModal
from tui.screens.base import BaseScreen
from tui.service_call import in_session, succeeded

LIFECYCLE_BINDINGS = [
    Binding("a", "start_bot", "Start", id="bot.start", tooltip="Start the bot (asks first)"),
    Binding("p", "pause_bot", "Pause/resume", id="bot.pause", tooltip="Pause a running bot, resume a paused one"),
    Binding("x", "stop_bot", "Stop", id="bot.stop", tooltip="Stop the bot, optionally closing its positions"),
    Binding("e", "edit_bot", "Edit", id="bot.edit", tooltip="Change the bot's settings"),
    Binding("d", "delete_bot", "Delete", id="bot.delete", tooltip="Delete a stopped bot (asks first)"),
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    name: str
    status: str
    paper: bool
    open_positions: int


class BotLifecycle(BaseScreen):
    """A screen with a selected bot; ``target()`` says which, ``bot_changed()`` reloads."""

    def target(self) -> Target | None:
        raise NotImplementedError

    def bot_changed(self) -> None:
        self.load()

    @work(exclusive=True, group="bot-lifecycle")
    async def action_start_bot(self) -> None:
        bot = self.target()
        if bot is None:
            return
        if bot.status == "active":
            self.notify(f"{bot.name} is already running.")
            return
        where = "on the simulated market (paper)" if bot.paper else "LIVE, with real funds"
        if not await self.app.push_screen_wait(
            ConfirmModal(
                f"Start {bot.name}?", f"It will trade {where} from its next cycle.", yes="Start"
            )
        ):
            return
        if await self.service(bots.start_bot, bot.id, clock=self.bbx.clock, write=True) is not None:
            self.notify(f"{bot.name} started.")
            self.bot_changed()

    @work(exclusive=True, group="bot-lifecycle")
    async def action_pause_bot(self) -> None:
        bot = self.target()
        if bot is None:
            return
        change = bots.resume_bot if bot.status == "paused" else bots.pause_bot
        if await self.service(change, bot.id, clock=self.bbx.clock, write=True) is not None:
            self.notify(f"{bot.name} {'resumed' if bot.status == 'paused' else 'paused'}.")
            self.bot_changed()

    @work(exclusive=True, group="bot-lifecycle")
    async def action_stop_bot(self) -> None:
        bot = self.target()
        if bot is None:
            return
        close = await self.app.push_screen_wait(StopBotModal(bot.name, bot.open_positions))
        if close is None:
            return
        result = await self.service(
            bots.stop_bot,
            bot.id,
            close_positions=close,
            markets=self.bbx.markets if close else None,
            clock=self.bbx.clock,
            write=True,
        )
        if result is None:
            return
        closed = (
            f", {len(result.closed_positions)} position(s) closed"
            if result.closed_positions
            else ""
        )
        if result.failures:
            self.notify(
                f"{bot.name} stopped{closed}; not closed: {'; '.join(result.failures)}",
                severity="warning",
                timeout=12,
            )
        else:
            self.notify(f"{bot.name} stopped{closed}.")
        self.bot_changed()

    @work(exclusive=True, group="bot-lifecycle")
    async def action_delete_bot(self) -> None:
        bot = self.target()
        if bot is None:
            return
        question = "Its trades stay in your history; its executions, positions and wallets go."
        if not await self.app.push_screen_wait(
            ConfirmModal(f"Delete {bot.name}?", question, yes="Delete")
        ):
            return
        if await self.call(
            succeeded(in_session(self.db, self.actor, bots.delete_bot, bot.id, write=True))
        ):
            self.notify(f"{bot.name} deleted.")
            self.bot_deleted(bot)

    def bot_deleted(self, bot: Target) -> None:
        self.bot_changed()

    @work(exclusive=True, group="bot-lifecycle")
    async def action_edit_bot(self) -> None:
        from tui.screens.bot_form import BotFormScreen, FormSource

        bot = self.target()
        if bot is None:
            return
        detail = await self.service(bots.get_bot, bot.id, executions=1, write=True)
        if detail is None:
            return
        if await self.app.push_screen_wait(BotFormScreen(FormSource(bot=detail.bot))):
            self.bot_changed()
