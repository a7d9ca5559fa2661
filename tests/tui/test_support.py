"""Support: open a ticket and reply; staff take, move and answer it; bad input keeps the form;
snapshots of the list (120×40, 80×24) and of a thread."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from textual.widgets import Input, TextArea

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.notifications import Notification
from core.db.models.support import SupportTicket, TicketMessage
from core.services import accounts, support
from core.services.actor import Actor, Role
from tests.service_users import add_user
from tests.tui.auth_helpers import DEVICE, PASSWORD, make_app, make_auth, palette_hits, wait_for
from tests.tui.screen_helpers import NOW, SMALL, WIDE, ScreenApp, no_blink, seed, settle
from tui.modals.form import FormModal
from tui.screens.support import SupportScreen
from tui.screens.ticket import TicketScreen


async def _people(db: Database) -> tuple[Actor, Actor]:
    ann = await add_user(db, "ann@example.com", id="ann0000000000000000000001",
                         created_at=NOW - timedelta(days=30))  # fmt: skip
    ops = await add_user(db, "ops@example.com", role=Role.ADMIN, id="ops0000000000000000000001",
                         created_at=NOW - timedelta(days=60))  # fmt: skip
    return ann, ops


async def _tickets(db: Database) -> tuple[Actor, Actor, str]:
    ann, ops = await _people(db)
    clock = FrozenClock(NOW - timedelta(days=2))

    async def step(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        async with db.sessions.begin() as s:
            return await fn(s, *args, clock=clock, **kwargs)

    t1 = await step(support.open_ticket, ann, subject="Grid bot stopped after exchange maintenance",
                    category="technical", priority="high",
                    message="My grid bot on BTC/USDT went to error at 03:00 and never resumed.")  # fmt: skip
    clock.advance(hours=3)
    await step(support.reply, ops, t1.id, "The exchange answered 503 for an hour and the bot "
               "backed off. Start it again from the Bots screen.")  # fmt: skip
    clock.advance(hours=1)
    await step(support.reply, ann, t1.id, "Started again, it trades now. Thanks!")
    clock.advance(hours=5)
    t2 = await step(support.open_ticket, ann, subject="Invoice for December", category="billing",
                    message="Please put my company name on the invoice.")  # fmt: skip
    clock.advance(hours=5)
    await step(support.open_ticket, ann, subject="[urgent] API key pasted in a chat",
               category="technical", priority="urgent", message="Please help me revoke it.")  # fmt: skip
    clock.advance(hours=1)
    await step(support.close_ticket, ann, t2.id)
    return ann, ops, t1.id


async def test_open_a_ticket_and_reply(db: Database, migrated_url: str) -> None:
    ann, ops = await _people(db)
    app = ScreenApp(migrated_url, ann, SupportScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        await pilot.press("ctrl+s")  # empty: refused, nothing created
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        assert "subject can't be empty" in str(form.query_one("#form-error").render())
        form.query_one("#field-subject", Input).value = "Can't connect Binance testnet"
        form.query_one("#field-message", TextArea).load_text(
            "The key test says: invalid signature."
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        app.clock.advance(minutes=20)
        await pilot.press("r")
        app.screen.query_one("#reply", TextArea).load_text("It works with a new key, thanks.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "It works with a new key" in str(app.screen.query("#thread Static").last().render())
        await pilot.press("escape", "escape")  # leave the reply box, then the ticket
        await settle(pilot)
        assert isinstance(app.screen, SupportScreen)
        assert app.screen.query_one("#tickets").row_count == 1
    async with db.session() as s:
        ticket = await s.scalar(select(SupportTicket))
        assert ticket is not None and ticket.subject == "Can't connect Binance testnet"
        messages = list(
            await s.scalars(select(TicketMessage.content).order_by(TicketMessage.created_at))
        )
        assert messages == [
            "The key test says: invalid signature.",
            "It works with a new key, thanks.",
        ]
        told = await s.scalars(
            select(Notification.title).where(Notification.user_id == ops.user_id)
        )
        assert any("New general ticket: Can't connect" in t for t in told)


async def test_staff_take_answer_and_close(db: Database, migrated_url: str) -> None:
    _ann, ops, first = await _tickets(db)
    app = ScreenApp(migrated_url, ops, SupportScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#tickets").row_count == 0  # staff's own tickets: none
        await pilot.press("s")  # all tickets
        await settle(pilot)
        table = app.screen.query_one("#tickets")
        assert table.row_count == 3
        table.move_cursor(row=table.get_row_index(first))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TicketScreen)
        await pilot.press("a")  # take it
        await settle(pilot)
        await pilot.press("r")
        app.screen.query_one("#reply", TextArea).load_text("Glad it works. Closing this one.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")  # out of the reply box
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("down", "enter")  # from in progress (highlighted) to closed
        await settle(pilot)
        assert "closed" in str(app.screen.query_one("#ticket-facts").render())
    async with db.session() as s:
        ticket = await s.get(SupportTicket, first)
        assert ticket is not None
        assert (ticket.assigned_to, ticket.status) == (ops.user_id, "closed")
        last = await s.scalar(select(TicketMessage).where(TicketMessage.ticket_id == first)
                              .order_by(TicketMessage.created_at.desc()).limit(1))  # fmt: skip
        assert last is not None and last.is_staff_reply and last.user_id == ops.user_id


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    no_blink(pilot.app)


def test_ticket_list_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    ann, _ops, _ = seed(migrated_url, _tickets)
    assert snap_compare(ScreenApp(migrated_url, ann, SupportScreen), terminal_size=WIDE,
                        run_before=_ready)  # fmt: skip


def test_ticket_list_snapshot_small(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    _ann, ops, _ = seed(migrated_url, _tickets)

    async def all_tickets(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("s")
        await _ready(pilot)

    assert snap_compare(ScreenApp(migrated_url, ops, SupportScreen), terminal_size=SMALL,
                        run_before=all_tickets)  # fmt: skip


def test_ticket_thread_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    _ann, ops, first = seed(migrated_url, _tickets)
    app = ScreenApp(migrated_url, ops, lambda: TicketScreen(first))
    assert snap_compare(app, terminal_size=WIDE, run_before=_ready)


def test_ticket_thread_snapshot_small(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    ann, _ops, first = seed(migrated_url, _tickets)
    app = ScreenApp(migrated_url, ann, lambda: TicketScreen(first))
    assert snap_compare(app, terminal_size=SMALL, run_before=_ready)


async def test_go_to_a_ticket_from_the_palette(
    db: Database, migrated_url: str, tmp_path: Path
) -> None:
    auth = make_auth()
    await accounts.register(
        db, email="ann@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    step = await accounts.login(
        db, email="ann@example.com", password=PASSWORD, device=DEVICE, auth=auth
    )
    async with db.sessions.begin() as s:
        await support.open_ticket(s, step.session.actor, subject="Withdrawal stuck on testnet",
                                  category="technical", message="Since this morning.")  # fmt: skip
    app = make_app(migrated_url, tmp_path, auth, listen=False)
    app.remembered.save(step.session.refresh_token)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"withdrawal")
        await wait_for(
            pilot,
            lambda: any("Withdrawal" in h for h in palette_hits(app)),
            what="the ticket in the palette",
        )
        await pilot.press("enter")
        await settle(pilot)
        assert app.current_mode == "support"
        assert isinstance(app.screen, TicketScreen)
        assert "Withdrawal stuck on testnet" in str(app.screen.query_one("#ticket-facts").render())
