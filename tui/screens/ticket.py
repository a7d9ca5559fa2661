"""One support ticket: its facts, the message thread, and a reply box.

Owners reply and may close; staff (admins) also assign the ticket to themselves, change its
status and priority, and reply as staff. The thread reloads when a notification about a
ticket arrives (the other side replied or changed it).
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static, TextArea

from core.events import Event
from core.notifications.live import KIND
from core.services import admin, support
from core.services.support import MessageView, TicketView
from tui.modals.choice import ChoiceModal
from tui.modals.confirm import ConfirmModal
from tui.screens.base import BaseScreen

TICKET_TYPES = {"TICKET_CREATED", "TICKET_MESSAGE", "TICKET_STATUS_CHANGED", "TICKET_CLOSED"}


class TicketScreen(BaseScreen):
    CSS_PATH = "support.tcss"
    LIVE_KINDS = frozenset({KIND})
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "send", "Send reply", id="ticket.send", tooltip="Send the reply"),
        Binding("r", "reply", "Reply", id="ticket.reply", tooltip="Write a reply"),
        Binding("c", "close_ticket", "Close ticket", id="ticket.close",
                tooltip="Close the ticket (a closed ticket takes no replies)"),
        Binding("a", "assign", "Assign to me", id="ticket.assign",
                tooltip="Staff: take this ticket (again: put it back in the queue)"),
        Binding("t", "set_status", "Status", id="ticket.status",
                tooltip="Staff: open, in progress or closed"),
        Binding("p", "set_priority", "Priority", id="ticket.priority",
                tooltip="Staff: low, normal, high or urgent"),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
        Binding("escape", "back", "Back", id="ticket.back"),
    ]  # fmt: skip

    def __init__(self, ticket_id: str) -> None:
        super().__init__()
        self.ticket_id = ticket_id
        self.ticket: TicketView | None = None
        self._names: dict[str, str] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("", id="ticket-facts")
        yield VerticalScroll(id="thread")
        with Vertical(id="reply-box"):
            yield TextArea(id="reply", compact=True, show_line_numbers=False)
            with Horizontal(id="reply-buttons"):
                yield Static("", id="reply-hint")
                yield Button("Send (ctrl+s)", variant="primary", id="send", compact=True)

    def on_mount(self) -> None:
        self.query_one("#thread").focus()

    def live(self, events: list[Event]) -> None:
        if any(e.data.get("type") in TICKET_TYPES for e in events):
            self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("assign", "set_status", "set_priority"):
            return self.actor.is_admin
        if action in ("send", "close_ticket", "reply"):
            return self.ticket is None or self.ticket.status != "closed"
        return True

    @work(exclusive=True, group="ticket-load")
    async def load(self) -> None:
        ticket = await self.service(support.get_ticket, self.ticket_id)
        if ticket is None:
            return
        if self.actor.is_admin:
            await self._learn_names(ticket)
        self.ticket = ticket
        self._show(ticket)
        self.refresh_bindings()

    async def _learn_names(self, ticket: TicketView) -> None:
        wanted = {ticket.user_id, *(m.user_id for m in ticket.messages)}
        if ticket.assigned_to:
            wanted.add(ticket.assigned_to)
        wanted -= set(self._names) | {self.actor.user_id}

        async def lookup(session, actor):
            return {uid: (await admin.get_user(session, actor, uid)).email for uid in wanted}

        if wanted:
            self._names.update(await self.service(lookup) or {})

    def _who(self, user_id: str | None) -> str:
        if user_id is None:
            return "nobody yet"
        if user_id == self.actor.user_id:
            return "you"
        return self._names.get(user_id, "support staff")

    def _show(self, t: TicketView) -> None:
        facts = Content.from_markup(
            "[b]$subject[/]\n"
            "[dim]Status[/] $status  [dim]Priority[/] $priority  [dim]Category[/] $category  "
            "[dim]Opened by[/] $owner  [dim]Assigned to[/] $assignee  [dim]Opened[/] $opened"
            "$closed",
            subject=t.subject,
            status=t.status.replace("_", " "),
            priority=t.priority,
            category=t.category,
            owner=self._who(t.user_id),
            assignee=self._who(t.assigned_to),
            opened=self.when(t.created_at),
            closed=f"  Closed {self.when(t.closed_at)}" if t.closed_at else "",
        )
        self.query_one("#ticket-facts", Static).update(facts)
        thread = self.query_one("#thread", VerticalScroll)
        with self.app.batch_update():
            thread.remove_children()
            thread.mount_all(self._message(m, t) for m in t.messages)
        thread.scroll_end(animate=False)
        closed = t.status == "closed"
        self.query_one("#reply", TextArea).disabled = closed
        self.query_one("#send", Button).disabled = closed
        self.query_one("#reply-hint", Static).update(
            "This ticket is closed; open a new ticket to continue."
            if closed
            else "Replying as support staff."
            if self.actor.is_admin and t.user_id != self.actor.user_id
            else ""
        )

    def _message(self, m: MessageView, t: TicketView) -> Static:
        if m.user_id == self.actor.user_id:
            author = "You (support)" if m.is_staff_reply else "You"
        elif m.is_staff_reply:
            name = self._names.get(m.user_id)
            author = f"Support · {name}" if name else "Support"
        else:
            author = self._names.get(m.user_id, "Customer")
        head = Content.from_markup("[b]$author[/] [dim]$at[/]\n", author=author,
                                   at=self.when(m.created_at))  # fmt: skip
        classes = "message staff" if m.is_staff_reply else "message"
        return Static(head + Content(m.content), classes=classes)

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    @work(exclusive=True, group="ticket-write")
    async def action_send(self) -> None:
        area = self.query_one("#reply", TextArea)
        sent = await self.service(
            support.reply, self.ticket_id, area.text, write=True, clock=self.clock
        )
        if sent is not None:
            area.clear()
            self.load()

    @work(exclusive=True, group="ticket-write")
    async def action_close_ticket(self) -> None:
        if not await self.app.push_screen_wait(
            ConfirmModal(
                "Close ticket", "Close this ticket? It will take no more replies.", yes="Close"
            )
        ):
            return
        if await self.service(support.close_ticket, self.ticket_id, write=True, clock=self.clock):
            self.notify("Ticket closed.")
            self.load()

    @work(exclusive=True, group="ticket-write")
    async def action_assign(self) -> None:
        t = self.ticket
        me = self.actor.user_id
        target = None if t is not None and t.assigned_to == me else me
        if await self.service(
            support.assign_ticket, self.ticket_id, target, write=True, clock=self.clock
        ):
            self.notify("Assigned to you." if target else "Unassigned: back in the queue.")
            self.load()

    @work(exclusive=True, group="ticket-write")
    async def action_set_status(self) -> None:
        status = await self.app.push_screen_wait(
            ChoiceModal(
                "Ticket status",
                [(s.replace("_", " ").capitalize(), s) for s in support.STATUSES],
                current=self.ticket.status if self.ticket else None,
            )
        )
        if not status:
            return
        changed = await self.service(
            support.set_status, self.ticket_id, status, write=True, clock=self.clock
        )
        if changed:
            self.load()

    @work(exclusive=True, group="ticket-write")
    async def action_set_priority(self) -> None:
        priority = await self.app.push_screen_wait(
            ChoiceModal(
                "Ticket priority",
                [(p.capitalize(), p) for p in support.PRIORITIES],
                current=self.ticket.priority if self.ticket else None,
            )
        )
        if not priority:
            return
        changed = await self.service(
            support.set_priority, self.ticket_id, priority, write=True, clock=self.clock
        )
        if changed:
            self.load()

    def action_reply(self) -> None:
        self.query_one("#reply", TextArea).focus()

    def action_scroll(self, lines: int) -> None:
        self.query_one("#thread", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_back(self) -> None:
        if self.focused is self.query_one("#reply", TextArea):
            self.query_one("#thread").focus()  # leave the reply box first
        else:
            self.dismiss(None)
