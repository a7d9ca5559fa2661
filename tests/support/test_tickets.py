"""Support tickets: the owner and staff sides, notifications to the other side, refusals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.admin import AuditLog
from core.db.models.notifications import Notification, NotificationChannel
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from core.services import support
from core.services.actor import Actor, Role
from tests.service_users import add_user


async def inbox(db: Database, actor: Actor) -> list[tuple[str, str]]:
    async with db.session() as s:
        rows = await s.execute(
            select(Notification.type, Notification.title)
            .where(
                Notification.user_id == actor.user_id,
                Notification.channel == NotificationChannel.IN_APP,
            )
            .order_by(Notification.created_at, Notification.id)
        )
        return [(str(t), title) for t, title in rows]


@pytest.fixture
async def people(db: Database) -> dict[str, Actor]:
    return {
        "bob": await add_user(db, "bob@example.com"),
        "eve": await add_user(db, "eve@example.com"),
        "staff": await add_user(db, "staff@example.com", role=Role.ADMIN),
        "boss": await add_user(db, "boss@example.com", role=Role.SUPERADMIN),
    }


async def test_full_ticket_life(db: Database, people: dict[str, Actor]) -> None:
    clock = FrozenClock()
    bob, staff, boss = people["bob"], people["staff"], people["boss"]
    async with db.sessions.begin() as s:
        t = await support.open_ticket(
            s,
            bob,
            subject="Bot won't start",
            category="Technical",
            message="It says error",
            clock=clock,
        )
    assert (t.status, t.priority, t.category, len(t.messages)) == ("open", "normal", "technical", 1)
    # every admin hears of a new unassigned ticket
    assert await inbox(db, staff) == [("TICKET_CREATED", "New technical ticket: Bot won't start")]
    assert await inbox(db, boss) == [("TICKET_CREATED", "New technical ticket: Bot won't start")]
    assert await inbox(db, bob) == []

    clock.advance(minutes=5)
    async with db.sessions.begin() as s:
        assigned = await support.assign_ticket(s, boss, t.id, staff.user_id, clock=clock)
        assert (assigned.assigned_to, assigned.status) == (staff.user_id, "in_progress")
        clock.advance(minutes=1)
        msg = await support.reply(s, staff, t.id, "Which exchange?", clock=clock)
        assert msg.is_staff_reply
        clock.advance(minutes=1)
        await support.reply(s, bob, t.id, "Binance", clock=clock)
        clock.advance(minutes=1)
        await support.set_priority(s, staff, t.id, "urgent", clock=clock)
    assert [n for n in await inbox(db, staff)][1:] == [
        ("TICKET_STATUS_CHANGED", "Ticket assigned to you: Bot won't start"),
        ("TICKET_MESSAGE", "The customer replied: Bot won't start"),
    ]
    assert await inbox(db, bob) == [
        ("TICKET_STATUS_CHANGED", "Ticket in progress: Bot won't start"),
        ("TICKET_MESSAGE", "Support replied: Bot won't start"),
        ("TICKET_STATUS_CHANGED", "Ticket priority urgent: Bot won't start"),
    ]
    # once assigned, the customer's reply went to the assignee only
    assert ("TICKET_MESSAGE", "The customer replied: Bot won't start") not in await inbox(db, boss)

    clock.advance(hours=1)
    async with db.sessions.begin() as s:
        closed = await support.set_status(s, staff, t.id, "closed", clock=clock)
        assert closed.closed_at == clock.now()
        with pytest.raises(Conflict, match="closed"):
            await support.reply(s, bob, t.id, "one more thing")
        clock.advance(minutes=1)
        reopened = await support.set_status(s, staff, t.id, "open", clock=clock)
        assert reopened.closed_at is None
        clock.advance(minutes=1)
        await support.close_ticket(s, bob, t.id, clock=clock)
        full = await support.get_ticket(s, bob, t.id)
    assert [m.content for m in full.messages] == ["It says error", "Which exchange?", "Binance"]
    assert [m.is_staff_reply for m in full.messages] == [False, True, False]
    assert (await inbox(db, bob))[-2][0] == "TICKET_CLOSED"
    assert (await inbox(db, staff))[-1] == ("TICKET_CLOSED", "Ticket closed: Bot won't start")
    async with db.session() as s:
        actions = list(
            await s.scalars(select(AuditLog.action).order_by(AuditLog.created_at, AuditLog.action))
        )
    assert "ticket_assigned" in actions and "ticket_priority_changed" in actions
    assert actions.count("ticket_status_changed") == 2


async def test_users_see_only_their_own_tickets(db: Database, people: dict[str, Actor]) -> None:
    bob, eve, staff = people["bob"], people["eve"], people["staff"]
    async with db.sessions.begin() as s:
        mine = await support.open_ticket(
            s, bob, subject="Billing", category="billing", message="Refund?"
        )
        await support.open_ticket(s, eve, subject="Hi", category="general", message="Hello")
    async with db.sessions.begin() as s:
        assert [t.id for t in await support.list_tickets(s, bob)] == [mine.id]
        assert len(await support.list_tickets(s, staff, everyone=True)) == 2
        for call in (
            support.get_ticket(s, eve, mine.id),
            support.reply(s, eve, mine.id, "I'm in"),
            support.close_ticket(s, eve, mine.id),
        ):
            with pytest.raises(NotFound):
                await call


async def test_staff_functions_refuse_users(db: Database, people: dict[str, Actor]) -> None:
    bob = people["bob"]
    async with db.sessions.begin() as s:
        t = await support.open_ticket(s, bob, subject="x", category="general", message="y")
        for call in (
            support.list_tickets(s, bob, everyone=True),
            support.list_tickets(s, bob, assigned_to_me=True),
            support.assign_ticket(s, bob, t.id, bob.user_id),
            support.set_status(s, bob, t.id, "in_progress"),
            support.set_priority(s, bob, t.id, "urgent"),
            support.count_open(s, bob),
        ):
            with pytest.raises(Forbidden, match="administrator"):
                await call


async def test_bad_input_changes_nothing(db: Database, people: dict[str, Actor]) -> None:
    bob, staff = people["bob"], people["staff"]
    async with db.sessions.begin() as s:
        for kwargs, field in (
            ({"subject": " ", "category": "general", "message": "m"}, "subject"),
            ({"subject": "s", "category": "sales", "message": "m"}, "category"),
            ({"subject": "s", "category": "general", "message": ""}, "message"),
            (
                {"subject": "s", "category": "general", "message": "m", "priority": "asap"},
                "priority",
            ),
            ({"subject": "s" * 201, "category": "general", "message": "m"}, "subject"),
        ):
            with pytest.raises(InvalidInput) as err:
                await support.open_ticket(s, bob, **kwargs)
            assert err.value.field == field
        assert await support.list_tickets(s, bob) == []
        t = await support.open_ticket(s, bob, subject="s", category="general", message="m")
        with pytest.raises(InvalidInput, match="status"):
            await support.set_status(s, staff, t.id, "resolved")
        with pytest.raises(InvalidInput, match="staff"):
            await support.assign_ticket(s, staff, t.id, bob.user_id)
        with pytest.raises(NotFound):
            await support.assign_ticket(s, staff, t.id, "ghost")
        assert (await support.get_ticket(s, bob, t.id)).assigned_to is None
