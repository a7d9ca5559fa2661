"""Admin · users: search by email, name or id; a user's page with suspend, ban, unban, forced
password reset, role (superadmins) and admin notes. Every change is audited by the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Input, Select, Static

from core.services import admin
from core.services.admin import NoteView, UserSummary
from tui.modals.choice import ChoiceModal
from tui.modals.confirm import ConfirmModal
from tui.modals.form import Field, FormModal
from tui.screens.base import BaseScreen
from tui.widgets.late import LateRow, late_value
from tui.widgets.table import Column, KeyedTable, fill_table

PAGE = 100
STATUS_OPTIONS = [("Active", "active"), ("Suspended", "suspended"), ("Banned", "banned")]
ROLE_OPTIONS = [("User", "user"), ("Admin", "admin"), ("Superadmin", "superadmin")]
STATUS_COLOUR = {"suspended": "warning", "banned": "error"}
DURATIONS = [
    ("1 hour", "1h"), ("1 day", "1d"), ("3 days", "3d"), ("7 days", "7d"), ("30 days", "30d"),
    ("90 days", "90d"),
]  # fmt: skip
USER_COLUMNS = (
    Column("email", "Email", keep=9, width_min=20),
    Column("name", "Name", 20, keep=4),
    Column("role", "Role", 10, keep=7),
    Column("status", "Status", 10, keep=8),
    Column("twofa", "2FA", 3, keep=3),
    Column("created", "Joined", 16, keep=5),
)
NOTE_COLUMNS = (
    Column("when", "When", 16, keep=8),
    Column("category", "Category", 10, keep=6),
    Column("author", "By", 22, keep=4),
    Column("note", "Note", keep=9, width_min=20),
)


def duration(code: str) -> timedelta:
    amount, unit = int(code[:-1]), code[-1]
    return timedelta(hours=amount) if unit == "h" else timedelta(days=amount)


def full_name(u: UserSummary) -> str:
    return " ".join(p for p in (u.first_name, u.last_name) if p) or "—"


class UsersPane(Vertical):
    """The users list of the admin screen (``screen`` is a ``BaseScreen``)."""

    BINDINGS = [  # noqa: RUF012
        Binding("slash", "search", "Search", id="admin.users.search",
                tooltip="Search users by email, name or id"),
    ]  # fmt: skip

    def __init__(self) -> None:
        super().__init__(id="users-pane")
        self.rows: list[UserSummary] = []

    def compose(self) -> ComposeResult:
        yield LateRow(self._filter_fields, classes="filters")  # after the first frame
        yield KeyedTable((), id="users-table")

    @staticmethod
    def _filter_fields() -> ComposeResult:
        yield Input(placeholder="search email, name or id", id="user-search", compact=True)
        yield Select(STATUS_OPTIONS, prompt="Any status", id="user-status", compact=True)
        yield Select(ROLE_OPTIONS, prompt="Any role", id="user-role", compact=True)

    @property
    def data(self) -> BaseScreen:
        return self.screen  # type: ignore[return-value]

    @work(exclusive=True, group="admin-users")
    async def load(self) -> None:
        # The filters are made after the first frame: none yet means no filter.
        query = late_value(self, "#user-search")
        status = late_value(self, "#user-status")
        role = late_value(self, "#user-role")
        rows = await self.data.service(
            admin.search_users,
            query if isinstance(query, str) and query else None,
            status=status if isinstance(status, str) else None,
            role=role if isinstance(role, str) else None,
            limit=PAGE,
        )
        if rows is None:
            return
        self.rows = rows
        self.show()

    def show(self) -> None:
        d = self.data
        cells = [
            (
                u.id,
                {
                    "email": d.cell(u.email),
                    "name": d.cell(full_name(u)),
                    "role": d.cell(u.role, "accent" if u.role != "user" else None),
                    "status": d.cell(u.status, STATUS_COLOUR.get(u.status)),
                    "twofa": d.cell("on" if u.two_factor_enabled else ""),
                    "created": d.cell(d.when(u.created_at)),
                },
            )
            for u in self.rows
        ]
        fill_table(self.query_one("#users-table", KeyedTable), USER_COLUMNS, cells)

    def on_resize(self) -> None:
        self.show()

    @on(Input.Changed, "#user-search")
    def _typed(self) -> None:
        self.set_timer(0.3, self.load, name="user-search")

    @on(Input.Submitted, "#user-search")
    def _submitted(self) -> None:
        self.query_one("#users-table").focus()

    @on(Select.Changed)
    def _filtered(self) -> None:
        self.load()

    @on(DataTable.RowSelected, "#users-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(UserScreen(event.row_key.value), self._reload_after)

    def _reload_after(self, _result: object) -> None:
        self.load()

    async def action_search(self) -> None:
        await self.query_one(LateRow).build()
        self.query_one("#user-search", Input).focus()


class UserScreen(BaseScreen):
    """One user, for an administrator: facts, notes, moderation."""

    CSS_PATH = "admin.tcss"
    BINDINGS = [  # noqa: RUF012
        Binding("s", "suspend", "Suspend", id="admin.user.suspend",
                tooltip="Suspend sign-in for a while, with a reason"),
        Binding("b", "ban", "Ban", id="admin.user.ban", tooltip="Ban the account, with a reason"),
        Binding("u", "unban", "Unban", id="admin.user.unban",
                tooltip="Lift a ban or a suspension"),
        Binding("f", "force_reset", "Force reset", id="admin.user.force-reset",
                tooltip="The user must choose a new password at the next sign-in"),
        Binding("n", "note", "Add note", id="admin.user.note", tooltip="Add an admin note"),
        Binding("o", "role", "Role", id="admin.user.role",
                tooltip="Superadmins: make the user a user, admin or superadmin"),
    ]  # fmt: skip

    def __init__(self, user_id: str) -> None:
        super().__init__()
        self.user_id = user_id
        self.user: UserSummary | None = None
        self.notes: list[NoteView] = []
        self._authors: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        if not self.actor.is_admin:
            yield Static("This needs an administrator.", id="refused")
            return
        yield Static("", id="user-facts")
        yield Static("Admin notes", classes="section")
        yield KeyedTable((), id="notes")
        yield Static("", id="status", classes="hint")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.actor.is_admin:
            return False
        u = self.user
        if action == "unban":
            return u is not None and u.status in ("banned", "suspended")
        if action in ("suspend", "ban"):
            return u is None or u.status != "banned"
        if action == "role":
            return self.actor.is_superadmin
        return True

    @work(exclusive=True, group="admin-user")
    async def load(self) -> None:
        if not self.actor.is_admin:
            return

        async def both(
            session: Any, actor: Any
        ) -> tuple[UserSummary, list[NoteView], dict[str, str]]:
            user = await admin.get_user(session, actor, self.user_id)
            notes = await admin.list_notes(session, actor, self.user_id)
            authors = {}
            for author in {n.author_id for n in notes} - set(self._authors):
                authors[author] = (await admin.get_user(session, actor, author)).email
            return user, notes, authors

        found = await self.service(both)
        if found is None:
            return
        self.user, self.notes, authors = found
        self._authors |= authors
        self._show()
        self.refresh_bindings()

    def _show(self) -> None:
        u = self.user
        assert u is not None
        state = u.status
        if u.status == "suspended":
            state += f" until {self.when(u.suspended_until)}: {u.suspended_reason or ''}"
        elif u.status == "banned":
            state += f" since {self.when(u.banned_at)}: {u.banned_reason or ''}"
        facts = Content.from_markup(
            "[b]$email[/]  $name\n"
            "[dim]Role[/] $role   [dim]Status[/] $state\n"
            "[dim]Two-factor[/] $twofa   [dim]Must change password[/] $reset   "
            "[dim]Joined[/] $joined   [dim]Id[/] $id",
            email=u.email, name=full_name(u), role=u.role, state=state,
            twofa="on" if u.two_factor_enabled else "off",
            reset="yes" if u.force_password_reset else "no",
            joined=self.when(u.created_at), id=u.id,
        )  # fmt: skip
        self.query_one("#user-facts", Static).update(facts)
        rows = [
            (
                n.id,
                {
                    "when": self.cell(self.when(n.created_at)),
                    "category": self.cell(n.category),
                    "author": self.cell(
                        "you"
                        if n.author_id == self.actor.user_id
                        else self._authors.get(n.author_id, n.author_id)
                    ),
                    "note": self.cell(n.content.replace("\n", " ")),
                },
            )
            for n in self.notes
        ]
        fill_table(self.query_one("#notes", KeyedTable), NOTE_COLUMNS, rows)
        self.say("" if self.notes else "No notes yet: n adds one.")

    def on_resize(self) -> None:
        if self.user is not None:
            self._show()

    async def _write(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        async with self.db.sessions.begin() as session:
            return await fn(session, self.actor, *args, clock=self.clock, **kwargs)

    async def _form(self, title: str, fields: list[Field], submit: Any, yes: str) -> Any:
        return await self.app.push_screen_wait(FormModal(title, fields, submit, yes=yes))

    def _reason(self, help_text: str) -> Field:
        return Field("reason", "Reason", "area", help=help_text)

    @work(exclusive=True, group="admin-user-write")
    async def action_suspend(self) -> None:
        async def submit(v: dict[str, Any]) -> UserSummary:
            until = self.clock.now() + duration(v["duration"] or "1d")
            return await self._write(admin.suspend_user, self.user_id, until=until,
                                     reason=v["reason"])  # fmt: skip

        fields = [
            Field("duration", "For", "select", "1d", DURATIONS,
                  help="Sign-in is refused until then; the user sees the reason."),
            self._reason("Shown to the user and kept in the audit log."),
        ]  # fmt: skip
        if await self._form("Suspend user", fields, submit, "Suspend"):
            self.notify("User suspended.")
            self.load()

    @work(exclusive=True, group="admin-user-write")
    async def action_ban(self) -> None:
        async def submit(v: dict[str, Any]) -> UserSummary:
            return await self._write(admin.ban_user, self.user_id, reason=v["reason"])

        if await self._form("Ban user", [self._reason("Shown to the user and audited.")],
                            submit, "Ban"):  # fmt: skip
            self.notify("User banned.")
            self.load()

    @work(exclusive=True, group="admin-user-write")
    async def action_unban(self) -> None:
        if not await self.app.push_screen_wait(
            ConfirmModal("Lift restriction", "Make this account active again?", yes="Unban")
        ):
            return
        if await self.call(self._write(admin.unban_user, self.user_id)):
            self.notify("The account is active again.")
            self.load()

    @work(exclusive=True, group="admin-user-write")
    async def action_force_reset(self) -> None:
        if not await self.app.push_screen_wait(
            ConfirmModal(
                "Force a password reset",
                "The user will have to choose a new password at the next sign-in.",
                yes="Force",
            )
        ):
            return
        if await self.call(self._write(admin.force_password_reset, self.user_id)):
            self.notify("A new password will be required at the next sign-in.")
            self.load()

    @work(exclusive=True, group="admin-user-write")
    async def action_note(self) -> None:
        async def submit(v: dict[str, Any]) -> NoteView:
            return await self._write(admin.add_note, self.user_id, v["content"],
                                     category=v["category"] or "general")  # fmt: skip

        fields = [
            Field("category", "Category", "select", "general",
                  [(c.capitalize(), c) for c in admin.NOTE_CATEGORIES]),
            Field("content", "Note", "area", help="Visible to administrators only."),
        ]  # fmt: skip
        if await self._form("Add an admin note", fields, submit, "Add note"):
            self.load()

    @work(exclusive=True, group="admin-user-write")
    async def action_role(self) -> None:
        role = await self.app.push_screen_wait(
            ChoiceModal("Role", ROLE_OPTIONS, current=self.user.role if self.user else None)
        )
        if role and await self.call(self._write(admin.change_role, self.user_id, role)):
            self.notify(f"The account is now a {role}.")
            self.load()
