"""Notification preferences: which channels carry what, Telegram and Discord targets, quiet
hours and digests. Saved as one partial change, checked as a whole by the service."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from core.notifications.schedule import DIGEST_FREQUENCIES
from core.services import notifications as prefs_service
from core.services.notifications import PreferencesView
from tui.screens.base import BaseScreen

COLUMNS = ("enabled", "bot_alerts", "trades", "payments", "support", "marketing", "critical_only")
HEADINGS = ("On", "Bot alerts", "Trades", "Payments", "Support", "Marketing", "Critical only")
CHANNELS = (
    ("in_app", "In-app"),
    ("email", "Email"),
    ("telegram", "Telegram"),
    ("discord", "Discord"),
    ("push", "Push"),
    ("sms", "SMS"),
)
HOURS = [(f"{h:02d}:00", h) for h in range(24)]
NOTE = (
    "Security notices always reach the in-app inbox. Payments, marketplace and support go to "
    "Telegram/Discord when CRITICAL only. Push and SMS carry critical and security notices, but "
    "no push or SMS provider is configured, so they are recorded as undeliverable."
)


def toggle_fields() -> list[str]:
    """Every boolean preference shown in the channel grid, by its field name."""
    names = PreferencesView.model_fields
    return [
        f"{channel}_{column}"
        for channel, _ in CHANNELS
        for column in COLUMNS
        if f"{channel}_{column}" in names
    ]


class NotificationPrefsScreen(BaseScreen):
    CSS_PATH = "notification_prefs.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Save", id="notification-prefs.save",
                tooltip="Check and save the preferences"),
        Binding("ctrl+r", "revert", "Revert", id="notification-prefs.revert",
                tooltip="Show the saved preferences again"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self._saved: PreferencesView | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="prefs"):
            yield Label("Channels", classes="section")
            with Grid(id="channel-grid"):
                yield Static("")
                for heading in HEADINGS:
                    yield Static(heading, classes="heading")
                for channel, label in CHANNELS:
                    yield Static(label, classes="channel")
                    for column in COLUMNS:
                        name = f"{channel}_{column}"
                        if name in PreferencesView.model_fields:
                            yield Checkbox("", id=f"p-{name}", compact=True, tooltip=name)
                        else:
                            yield Static("·", classes="absent")
            yield Static(NOTE, classes="note")
            yield Label("Targets", classes="section")
            with Grid(classes="pairs"):
                yield Label("Telegram chat id")
                yield Input(id="telegram-chat", placeholder="123456789 or @channel", compact=True,
                            max_length=40)  # fmt: skip
                yield Label("Discord webhook")
                with Horizontal(classes="webhook"):
                    yield Input(id="discord-webhook", password=True, compact=True, max_length=500)
                    yield Checkbox("forget it", id="discord-clear", compact=True)
            yield Label("Quiet hours and digests", classes="section")
            with Grid(classes="pairs"):
                yield Label("Quiet hours")
                yield Checkbox(
                    "Hold non-critical notices", id="p-quiet_hours_enabled", compact=True
                )
                yield Label("From / to")
                with Horizontal(classes="hours"):
                    yield Select(HOURS, id="quiet-start", prompt="start", compact=True)
                    yield Select(HOURS, id="quiet-end", prompt="end", compact=True)
                    yield Static("in your time zone", classes="muted")
                yield Label("Digest")
                yield Checkbox("Bundle notices into a digest", id="p-digest_mode", compact=True)
                yield Label("Frequency")
                yield Select(
                    [(f.capitalize(), f) for f in DIGEST_FREQUENCIES],
                    id="digest-frequency",
                    allow_blank=False,
                    compact=True,
                )
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")

    def load(self) -> None:
        self.action_revert()

    @work(exclusive=True, group="prefs")
    async def action_revert(self) -> None:
        view = await self.service(prefs_service.get_preferences)
        if view is not None:
            self._fill(view)

    def _fill(self, view: PreferencesView) -> None:
        self._saved = view
        for name in [*toggle_fields(), "quiet_hours_enabled", "digest_mode"]:
            self.query_one(f"#p-{name}", Checkbox).value = getattr(view, name)
        self.query_one("#telegram-chat", Input).value = view.telegram_chat_id or ""
        webhook = self.query_one("#discord-webhook", Input)
        webhook.value = ""
        webhook.placeholder = (
            "saved (hidden) — type a new URL to replace it"
            if view.discord_webhook_set
            else "https://discord.com/api/webhooks/…"
        )
        self.query_one("#discord-clear", Checkbox).value = False
        self.query_one("#discord-clear", Checkbox).display = view.discord_webhook_set
        for selector, hour in (
            ("#quiet-start", view.quiet_hours_start),
            ("#quiet-end", view.quiet_hours_end),
        ):
            select = self.query_one(selector, Select)
            if hour is None:
                select.clear()
            else:
                select.value = hour
        self.query_one("#digest-frequency", Select).value = view.digest_frequency

    def changes(self) -> dict[str, Any]:
        """What differs from the saved preferences, as a partial update."""
        saved = self._saved
        assert saved is not None
        out: dict[str, Any] = {}
        for name in [*toggle_fields(), "quiet_hours_enabled", "digest_mode"]:
            value = self.query_one(f"#p-{name}", Checkbox).value
            if value != getattr(saved, name):
                out[name] = value
        chat = self.query_one("#telegram-chat", Input).value.strip()
        if chat != (saved.telegram_chat_id or ""):
            out["telegram_chat_id"] = chat
        webhook = self.query_one("#discord-webhook", Input).value.strip()
        if webhook:
            out["discord_webhook_url"] = webhook
        elif self.query_one("#discord-clear", Checkbox).value:
            out["discord_webhook_url"] = ""
        for selector, name in (
            ("#quiet-start", "quiet_hours_start"),
            ("#quiet-end", "quiet_hours_end"),
        ):
            chosen = self.query_one(selector, Select).value
            hour = chosen if isinstance(chosen, int) else None
            if hour != getattr(saved, name):
                out[name] = hour
        frequency = self.query_one("#digest-frequency", Select).value
        if frequency != saved.digest_frequency:
            out["digest_frequency"] = frequency
        return out

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @work(exclusive=True, group="prefs")
    async def action_save(self) -> None:
        if self._saved is None:
            return
        changes = self.changes()
        if not changes:
            self.notify("Nothing changed.")
            return
        view = await self.service(prefs_service.update_preferences, changes, write=True)
        self.query_one("#discord-webhook", Input).value = ""  # never left on screen
        if view is not None:
            self._fill(view)
            self.notify("Notification preferences saved.")
