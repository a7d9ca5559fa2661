"""Settings: profile, display (theme, language, time zone, currency), privacy, a GDPR export
of your data with progress, and the way to the security settings.

The theme applies as soon as it is chosen and is stored in ``users.theme``; ``apply_display``
is what the app calls at sign-in so the stored theme and time zone take effect.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from zoneinfo import ZoneInfo

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import (
    Button,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from core.errors import ServiceError
from core.services import privacy, profile
from core.services.privacy import ExportView, PrivacyView
from core.services.profile import CURRENCIES, LANGUAGES, ProfileView
from tui.modals.form import Field, FieldGrid
from tui.screens.base import BaseScreen
from tui.service_call import call_service, in_session
from tui.widgets.lazy_pane import LazyPane, build_pane
from tui.widgets.table import Column, KeyedTable, fill_table

EXPORT_TYPES = {
    "all": "Everything",
    "profile": "Profile, sessions, devices, audit trail",
    "settings": "Settings, exchange connections, wallets",
    "bots": "Bots, positions, executions, backtests",
    "trades": "Trades, orders, positions, portfolio history",
}
EXPORT_COLUMNS = (
    Column("created", "Requested", 16, keep=8),
    Column("type", "Type", 9, keep=7),
    Column("status", "Status", 10, keep=9),
    Column("expires", "Expires", 16, keep=5),
    Column("file", "File", keep=6, width_min=20),
)


def profile_fields(p: ProfileView) -> list[Field]:
    return [
        Field("first_name", "First name", value=p.first_name or "", max_length=64),
        Field("last_name", "Last name", value=p.last_name or "", max_length=64),
        Field("company", "Company", value=p.company or "", max_length=64),
        Field("position", "Position", value=p.position or "", max_length=64),
        Field("location", "Location", value=p.location or "", max_length=64),
        Field("phone", "Phone", value=p.phone or "", max_length=32,
              help="Digits, spaces, dashes or brackets, optionally after a +."),
        Field("website", "Website", value=p.website or "", max_length=200,
              placeholder="https://…"),
        Field("bio", "About you", value=p.bio or "", max_length=500),
    ]  # fmt: skip


def display_fields(p: ProfileView) -> list[Field]:
    return [
        Field("language", "Language", "select", p.language, list((v, k) for k, v in LANGUAGES.items()),
              help="The interface is in English only for now."),
        Field("timezone", "Time zone", value=p.timezone or "UTC", max_length=64,
              help="An IANA zone such as Europe/Paris; times on screen and quiet hours use it."),
        Field("currency", "Currency label", "select", p.currency,
              [(v, k) for k, v in CURRENCIES.items()],
              help="Figures are in US dollars; this is how they are labelled."),
    ]  # fmt: skip


def privacy_fields(p: PrivacyView) -> list[Field]:
    return [
        Field("profile_visibility", "Profile visible to", "select", p.profile_visibility,
              [("Everyone", "public"), ("Friends", "friends"), ("Only me", "private")]),
        Field("allow_messages_from", "Messages from", "select", p.allow_messages_from,
              [("Everyone", "everyone"), ("Contacts", "contacts"), ("Nobody", "nobody")]),
        Field("show_email", "Show my email", "check", p.show_email),
        Field("show_phone", "Show my phone", "check", p.show_phone),
        Field("data_usage_consent", "Usage analytics", "check", p.data_usage_consent,
              help="Allow BlockbotX to use your activity to improve the product."),
        Field("marketing_emails_consent", "Marketing email", "check", p.marketing_emails_consent),
        Field("third_party_data_sharing", "Share with partners", "check",
              p.third_party_data_sharing),
    ]  # fmt: skip


def apply_display(app: App[Any], p: ProfileView) -> None:
    """Make a user's display choices take effect: their theme (if this app has it) and zone."""
    theme = profile.theme_name(p.theme)
    if theme and theme in app.available_themes:
        app.theme = theme
    app.user_zone = ZoneInfo(p.timezone) if p.timezone else None  # type: ignore[attr-defined]


async def load_display(app: App[Any]) -> None:
    """At sign-in: read the user's profile and apply it (a failure leaves the defaults)."""
    try:
        p = await in_session(app.db, app.actor, profile.get_profile)  # type: ignore[attr-defined]
    except ServiceError:
        return
    apply_display(app, p)


class ExportBox(Vertical):
    """The data export tab's content: it lists the exports loaded before it was built."""

    def on_mount(self) -> None:
        screen = self.screen
        if isinstance(screen, SettingsScreen):
            screen._show_exports(None)


class FormSlot(Vertical):
    """Where a settings tab's form goes: filled once the settings are loaded and the tab is
    built, whichever comes last."""

    async def on_mount(self) -> None:
        screen = self.screen
        if isinstance(screen, SettingsScreen):
            await screen.fill(self)


def _privacy_pane() -> VerticalScroll:
    return VerticalScroll(
        FormSlot(id="privacy-form"),
        Button("Save privacy (ctrl+s)", id="save-privacy", variant="primary"),
        classes="pane",
    )


def _security_pane() -> Vertical:
    return Vertical(
        Static(
            "Password, two-factor authentication, sessions, known devices, sign-in "
            "history and API keys have a screen of their own.",
            classes="pane-help",
        ),
        Button("Open security settings (ctrl+o / F2)", id="open-security"),
        classes="pane",
    )


class SettingsScreen(BaseScreen):
    CSS_PATH = "settings.tcss"
    LOAD_AFTER_FIRST_FRAME = True
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Save", id="settings.save", tooltip="Save this tab"),
        Binding("ctrl+e", "export", "Export", id="settings.export",
                tooltip="Export your data (GDPR)"),
        Binding("ctrl+o", "security", "Security", id="settings.security",
                tooltip="Password, two-factor, sessions, API keys"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.profile: ProfileView | None = None
        self.privacy: PrivacyView | None = None
        self.exports: list[ExportView] = []

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            with TabPane("Profile", id="profile"), VerticalScroll(classes="pane"):
                yield Static("", id="email", classes="pane-help")
                yield FormSlot(id="profile-form")
                yield Button("Save profile (ctrl+s)", id="save-profile", variant="primary")
            # The other tabs are built when first shown; their forms then (``FormSlot``).
            yield LazyPane("Display", self._display_pane, id="display")
            yield LazyPane("Privacy", _privacy_pane, id="privacy")
            yield LazyPane("Data export", self._export_pane, id="export")
            yield LazyPane("Security", _security_pane, id="security")
        yield Static("", id="form-error", classes="error")

    def _display_pane(self) -> VerticalScroll:
        return VerticalScroll(
            Label("Theme", classes="section"),
            Select(self._themes(), value=self.app.theme, id="theme", allow_blank=False,
                   compact=True),
            Static("Applied and saved as soon as you choose it.", classes="pane-help"),
            FormSlot(id="display-form"),
            Button("Save display (ctrl+s)", id="save-display", variant="primary"),
            classes="pane",
        )  # fmt: skip

    def _export_pane(self) -> Vertical:
        """The data export tab, built when first shown: its list is the last one loaded."""
        return ExportBox(
            Static(
                "A copy of your data as CSV files in a zip (or one JSON file), written to "
                "BlockbotX's data directory, readable only by you, kept 7 days. Secrets "
                "(password hash, keys, tokens) are never included.",
                classes="pane-help",
            ),
            Horizontal(
                Select([(v, k) for k, v in EXPORT_TYPES.items()], value="all",
                       allow_blank=False, id="export-type", compact=True),
                Select([("CSV (zip)", "csv"), ("JSON", "json")], value="csv",
                       allow_blank=False, id="export-format", compact=True),
                Button("Export (ctrl+e)", id="export-button", compact=True),
                id="export-row",
            ),
            ProgressBar(id="export-progress", show_eta=False),
            KeyedTable((), id="exports"),
            classes="pane",
        )  # fmt: skip

    def _themes(self) -> list[tuple[str, str]]:
        names = sorted(self.app.available_themes, key=lambda t: (not t.startswith("blockbotx"), t))
        return [(t, t) for t in names]

    # --- data ------------------------------------------------------------------------------

    @work(exclusive=True, group="settings-load")
    async def load(self) -> None:
        async def everything(session: Any, actor: Any) -> tuple[Any, ...]:
            return (
                await profile.get_profile(session, actor),
                await privacy.get_privacy_settings(session, actor),
                await privacy.list_exports(session, actor),
            )

        found = await self.service(everything)
        if found is None:
            return
        self.profile, self.privacy, exports = found
        p = self.profile
        self.query_one("#email", Static).update(
            f"Signed in as {p.email}. Your email can't be changed here."
        )
        for slot in self.query(FormSlot):  # those of the tabs built so far
            await self.fill(slot)
        self._show_exports(exports)

    async def fill(self, slot: FormSlot) -> None:
        """A tab's form, from the settings loaded (none before they are)."""
        if self.profile is None or self.privacy is None:
            return
        if slot.id == "privacy-form":
            fields = privacy_fields(self.privacy)
        elif slot.id == "display-form":
            fields = display_fields(self.profile)
        else:
            fields = profile_fields(self.profile)
        await slot.remove_children()
        await slot.mount(FieldGrid(fields))
        for zone in slot.query("#field-timezone").results(Input):
            zone.suggester = SuggestFromList(profile.time_zones(), case_sensitive=False)

    def _show_exports(self, exports: list[ExportView] | None) -> None:
        """The exports listed (None: those last loaded), once their tab has been shown."""
        if exports is not None:
            self.exports = exports
        found = self.query("#exports")
        if not found:
            return
        exports = self.exports
        rows = [
            (
                e.id,
                {
                    "created": self.cell(self.when(e.created_at)),
                    "type": self.cell(e.export_type),
                    "status": self.cell(
                        e.status, {"failed": "error", "completed": "success"}.get(e.status)
                    ),
                    "expires": self.cell(self.when(e.expires_at)),
                    "file": self.cell(e.file_url or "—"),
                },
            )
            for e in exports
        ]
        fill_table(found.only_one(KeyedTable), EXPORT_COLUMNS, rows)

    # --- saving ----------------------------------------------------------------------------

    @property
    def tab(self) -> str:
        return self.query_one("#tabs", TabbedContent).active or "profile"

    @on(Button.Pressed, "#save-profile, #save-display, #save-privacy")
    def _save_pressed(self) -> None:
        self.action_save()

    @work(exclusive=True, group="settings-write")
    async def action_save(self) -> None:
        tab = self.tab
        if tab not in ("profile", "display", "privacy"):
            return
        grid = self.query_one(f"#{tab}-form FieldGrid", FieldGrid)
        grid.clear_marks()
        values = grid.values()
        call: Awaitable[PrivacyView | ProfileView]
        if tab == "privacy":
            call = in_session(self.db, self.actor, privacy.update_privacy_settings, values,
                              write=True)  # fmt: skip
        else:
            call = in_session(self.db, self.actor, profile.update_profile, values, write=True)
        saved = await call_service(self, call, "#form-error", on_refusal=grid.mark)
        if saved is None:
            return
        self.query_one("#form-error", Static).update("")
        if isinstance(saved, ProfileView):
            self.profile = saved
            apply_display(self.app, saved)
        else:
            self.privacy = saved
        self.notify(f"{tab.capitalize()} saved.")

    @on(Select.Changed, "#theme")
    def _theme_chosen(self, event: Select.Changed) -> None:
        theme = event.value
        if not isinstance(theme, str) or theme == self.app.theme:
            return
        self.app.theme = theme
        self._store_theme(theme)

    @work(exclusive=True, group="settings-theme")
    async def _store_theme(self, theme: str) -> None:
        if await self.service(profile.update_profile, {"theme": theme}, write=True):
            self.notify(f"Theme {theme} saved.")

    # --- export ----------------------------------------------------------------------------

    @on(Button.Pressed, "#export-button")
    def _export_pressed(self) -> None:
        self.action_export()

    @work(exclusive=True, group="settings-export")
    async def action_export(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "export"
        await build_pane(self.query_one("#export", TabPane))
        kind = self.query_one("#export-type", Select).value
        fmt = self.query_one("#export-format", Select).value
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=None, progress=0)
        button = self.query_one("#export-button", Button)
        button.disabled = True

        def progress(done: int, total: int) -> None:
            bar.update(total=total + 1, progress=done)  # the last step is writing the file

        try:
            view = await self.call(
                privacy.request_export(
                    self.db,
                    self.actor,
                    str(kind),
                    fmt=str(fmt),
                    clock=self.clock,
                    progress=progress,
                )
            )
        finally:
            button.disabled = False
        if view is None:
            bar.update(total=100, progress=0)
            return
        bar.update(total=1, progress=1)
        self.notify(f"Export ready: {view.file_url}", timeout=10)
        exports = await self.service(privacy.list_exports)
        if exports is not None:
            self._show_exports(exports)

    # --- security --------------------------------------------------------------------------

    @on(Button.Pressed, "#open-security")
    def action_security(self) -> None:
        from tui.screens.security import SecurityScreen

        self.app.push_screen(SecurityScreen())
