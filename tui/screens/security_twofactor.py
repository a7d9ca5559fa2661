"""The Two-factor tab: enrol with a QR code, regenerate backup codes, turn it off."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from core.services import twofactor
from tui.modals.show_once import ShowOnceModal
from tui.screens.security import Pane
from tui.service_call import call_service, succeeded
from tui.widgets.qr import QRCode

BACKUP_NOTE = (
    "Each code works once, in place of a code from your app. Write them down or store them in a "
    "password manager now: they are not shown again."
)


class TwoFactorPane(Pane):
    def compose(self) -> ComposeResult:
        yield Static("", id="two-factor-state", classes="pane-help")
        yield Vertical(id="two-factor-body")
        yield Static("", id="two-factor-error", classes="error pane-status")

    @work(exclusive=True, group="two-factor")
    async def load(self) -> None:
        bbx = self.bbx
        status = await call_service(self, twofactor.status(bbx.db, self.actor), "#two-factor-error")
        if status is None:
            return
        body = self.query_one("#two-factor-body", Vertical)
        await body.remove_children()
        state = self.query_one("#two-factor-state", Static)
        if status.enabled:
            state.update(
                f"Two-factor authentication is [b $success]on[/]. Backup codes left: {status.backup_codes_left}.\n"
                "To regenerate the backup codes or turn it off, enter your password and a current code."
            )
            await body.mount_all(
                [
                    Label("Password"),
                    Input(password=True, id="tf-password", max_length=4096),
                    Label("Code from your app (or a backup code)"),
                    Input(id="tf-code", max_length=64),
                    Horizontal(
                        Button("Regenerate backup codes", id="regenerate"),
                        Button("Turn off", variant="error", id="disable"),
                        classes="row-buttons",
                    ),
                ]
            )
        else:
            state.update(
                "Two-factor authentication is [b $warning]off[/]. Turn it on to ask for a code from "
                "an authenticator app (any TOTP app) at every sign-in."
            )
            await body.mount(
                Button("Turn on two-factor authentication", variant="primary", id="enrol")
            )
        self.loaded()

    @on(Button.Pressed, "#enrol")
    @work(exclusive=True, group="two-factor")
    async def _enrol(self) -> None:
        bbx = self.bbx
        enrolment = await call_service(
            self, twofactor.begin_enrolment(bbx.db, self.actor, bbx.auth), "#two-factor-error"
        )
        if enrolment is None:
            return
        body = self.query_one("#two-factor-body", Vertical)
        await body.remove_children()
        self.query_one("#two-factor-state", Static).update(
            "Scan the QR code with your authenticator app (or type the key below), then enter the "
            "6-digit code it shows."
        )
        await body.mount(
            Horizontal(
                QRCode(enrolment.uri, id="qr"),
                Vertical(
                    Static(f"Key: {_grouped(enrolment.secret)}", id="secret-text", markup=False),
                    Label("Code from the app"),
                    Input(placeholder="123456", id="confirm-code", max_length=16),
                    Horizontal(
                        Button("Confirm", variant="primary", id="confirm"),
                        Button("Cancel", id="cancel-enrol"),
                        classes="row-buttons",
                    ),
                    id="enrol-form",
                ),
                id="enrolment",
            )
        )
        self.query_one("#confirm-code", Input).focus()

    @on(Input.Submitted, "#confirm-code")
    @on(Button.Pressed, "#confirm")
    @work(exclusive=True, group="two-factor")
    async def _confirm(self) -> None:
        field = self.query_one("#confirm-code", Input)
        code, field.value = field.value, ""
        bbx = self.bbx
        codes = await call_service(
            self,
            twofactor.confirm_enrolment(bbx.db, self.actor, code, bbx.auth),
            "#two-factor-error",
        )
        if codes is None:
            return
        self.say("")
        # The QR code and key leave the screen before the backup codes are shown.
        await self.query_one("#two-factor-body", Vertical).remove_children()
        await self.app.push_screen_wait(
            ShowOnceModal(
                "Two-factor authentication is on — your backup codes",
                "\n".join(codes.codes),
                BACKUP_NOTE,
            )
        )
        self.load()

    @on(Button.Pressed, "#cancel-enrol")
    def _cancel(self) -> None:
        self.say("")
        self.load()

    def _credentials(self) -> tuple[str, str]:
        password, code = self.query_one("#tf-password", Input), self.query_one("#tf-code", Input)
        values = (password.value, code.value)
        password.value = code.value = ""
        return values

    @on(Button.Pressed, "#regenerate")
    @work(exclusive=True, group="two-factor")
    async def _regenerate(self) -> None:
        password, code = self._credentials()
        bbx = self.bbx
        codes = await call_service(
            self,
            twofactor.regenerate_backup_codes(bbx.db, self.actor, password, code, bbx.auth),
            "#two-factor-error",
        )
        if codes is None:
            return
        self.say("")
        await self.app.push_screen_wait(
            ShowOnceModal(
                "New backup codes (the old ones no longer work)",
                "\n".join(codes.codes),
                BACKUP_NOTE,
            )
        )
        self.load()

    @on(Button.Pressed, "#disable")
    @work(exclusive=True, group="two-factor")
    async def _disable(self) -> None:
        password, code = self._credentials()
        bbx = self.bbx
        if await call_service(
            self,
            succeeded(twofactor.disable(bbx.db, self.actor, password, code, bbx.auth)),
            "#two-factor-error",
        ):
            self.say("")
            self.notify("Two-factor authentication is off.")
            self.load()


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
