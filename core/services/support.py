"""Support tickets: users open and reply to their own; staff (admins) see, assign and run all.

Every change notifies the other side: a user's action notifies the assigned staff member (or
every admin while unassigned), a staff action notifies the ticket's owner. Functions take
``(session, actor, ...)`` and run in the caller's transaction. A ticket of someone else is
reported exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.notifications import NotificationPriority, NotificationType
from core.db.models.support import SupportTicket, TicketMessage
from core.db.models.users import User
from core.errors import Conflict, InvalidInput, NotFound
from core.notifications import notify
from core.services.actor import Actor, Role, recheck, require_admin
from core.services.audit import audit
from core.services.rows import loaded

CATEGORIES = ("technical", "billing", "general")
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "in_progress", "closed")
SUBJECT_MAX = 200
MESSAGE_MAX = 10_000
STAFF_ROLES = (Role.ADMIN.value, Role.SUPERADMIN.value)


@dataclass(frozen=True, slots=True)
class MessageView:
    id: str
    user_id: str
    content: str
    is_staff_reply: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TicketView:
    id: str
    user_id: str
    subject: str
    category: str
    status: str
    priority: str
    assigned_to: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    messages: tuple[MessageView, ...] = ()


def _ticket(row: SupportTicket, messages: Iterable[TicketMessage] = ()) -> TicketView:
    return TicketView(
        id=row.id,
        user_id=row.user_id,
        subject=row.subject,
        category=row.category,
        status=row.status,
        priority=row.priority,
        assigned_to=row.assigned_to,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
        messages=tuple(
            MessageView(m.id, m.user_id, m.content, m.is_staff_reply, m.created_at)
            for m in messages
        ),
    )


def _choice(value: str, allowed: tuple[str, ...], field: str) -> str:
    value = (value or "").strip().lower()
    if value not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)}.", field=field)
    return value


def _text(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"The {field} can't be empty.", field=field)
    if len(value) > limit:
        raise InvalidInput(f"The {field} is at most {limit} characters.", field=field)
    return value


async def _load(
    session: AsyncSession, actor: Actor, ticket_id: str, *, lock: bool = True
) -> SupportTicket:
    """The ticket if the (already re-checked) actor may see it; else NotFound."""
    stmt = select(SupportTicket).where(SupportTicket.id == ticket_id)
    if not actor.is_admin:
        stmt = stmt.where(SupportTicket.user_id == actor.user_id)
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise NotFound(f"No support ticket {ticket_id!r}.")
    return row


async def _staff_ids(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(User.id).where(User.role.in_(STAFF_ROLES))))


async def _tell(
    session: AsyncSession,
    actor: Actor,
    ticket: SupportTicket,
    type_: NotificationType,
    title: str,
    message: str,
    clock: Clock,
) -> None:
    """Notify the other side of ``actor`` about ``ticket``."""
    if actor.user_id == ticket.user_id:
        recipients = [ticket.assigned_to] if ticket.assigned_to else await _staff_ids(session)
    else:
        recipients = [ticket.user_id]
    priority = (
        NotificationPriority.HIGH if ticket.priority == "urgent" else NotificationPriority.NORMAL
    )
    for user_id in dict.fromkeys(recipients):
        if user_id and user_id != actor.user_id:
            await notify(
                session,
                user_id=user_id,
                type=type_,
                title=title,
                message=message,
                priority=priority,
                metadata={"ticket_id": ticket.id},
                clock=clock,
            )


async def _staff_audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    ticket: SupportTicket,
    clock: Clock,
    **details: object,
) -> None:
    await audit(
        session,
        user_id=actor.user_id,
        action=action,
        at=clock.now(),
        ip_address=actor.ip_address,
        details={"ticket_id": ticket.id, **details},
    )


async def open_ticket(
    session: AsyncSession,
    actor: Actor,
    *,
    subject: str,
    category: str,
    message: str,
    priority: str = "normal",
    clock: Clock = SYSTEM_CLOCK,
) -> TicketView:
    subject = _text(subject, "subject", SUBJECT_MAX)
    category = _choice(category, CATEGORIES, "category")
    priority = _choice(priority, PRIORITIES, "priority")
    content = _text(message, "message", MESSAGE_MAX)
    now = clock.now()
    ticket = SupportTicket(
        user_id=actor.user_id,
        subject=subject,
        category=category,
        priority=priority,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    await session.flush()
    first = TicketMessage(
        ticket_id=ticket.id, user_id=actor.user_id, content=content, created_at=now
    )
    session.add(first)
    await session.flush()
    await _tell(
        session,
        actor,
        ticket,
        NotificationType.TICKET_CREATED,
        f"New {category} ticket: {subject}",
        content,
        clock,
    )
    return _ticket(await loaded(session, ticket), [first])


async def list_tickets(
    session: AsyncSession,
    actor: Actor,
    *,
    status: str | None = None,
    everyone: bool = False,
    assigned_to_me: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> list[TicketView]:
    """The actor's tickets, or (staff, ``everyone=True``) every ticket; newest activity first."""
    if not 1 <= limit <= 500 or offset < 0:
        raise InvalidInput("limit must be 1-500 and offset not negative.", field="limit")
    stmt = select(SupportTicket)
    if everyone or assigned_to_me:
        actor = await require_admin(session, actor)
        if assigned_to_me:
            stmt = stmt.where(SupportTicket.assigned_to == actor.user_id)
    else:
        stmt = stmt.where(SupportTicket.user_id == actor.user_id)
    if status is not None:
        stmt = stmt.where(SupportTicket.status == _choice(status, STATUSES, "status"))
    stmt = (
        stmt.order_by(SupportTicket.updated_at.desc(), SupportTicket.id).limit(limit).offset(offset)
    )
    return [_ticket(r) for r in await session.scalars(stmt)]


async def get_ticket(session: AsyncSession, actor: Actor, ticket_id: str) -> TicketView:
    actor = await recheck(session, actor)
    ticket = await _load(session, actor, ticket_id, lock=False)
    messages = await session.scalars(
        select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.created_at, TicketMessage.id)
    )
    return _ticket(await loaded(session, ticket), messages)


async def reply(
    session: AsyncSession,
    actor: Actor,
    ticket_id: str,
    content: str,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> MessageView:
    """Add a message; staff replying to someone else's ticket reply as staff."""
    content = _text(content, "message", MESSAGE_MAX)
    actor = await recheck(session, actor)
    ticket = await _load(session, actor, ticket_id)
    if ticket.status == "closed":
        raise Conflict("This ticket is closed; open a new ticket to continue.")
    now = clock.now()
    staff = actor.is_admin and actor.user_id != ticket.user_id
    msg = TicketMessage(
        ticket_id=ticket.id,
        user_id=actor.user_id,
        content=content,
        is_staff_reply=staff,
        created_at=now,
    )
    session.add(msg)
    if staff and ticket.status == "open":
        ticket.status = "in_progress"
    ticket.updated_at = now
    await session.flush()
    who = "Support" if staff else "The customer"
    await _tell(
        session,
        actor,
        ticket,
        NotificationType.TICKET_MESSAGE,
        f"{who} replied: {ticket.subject}",
        content,
        clock,
    )
    return MessageView(msg.id, msg.user_id, msg.content, msg.is_staff_reply, msg.created_at)


async def assign_ticket(
    session: AsyncSession,
    actor: Actor,
    ticket_id: str,
    staff_user_id: str | None,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> TicketView:
    """Staff: give the ticket to a staff member (or ``None`` to unassign)."""
    actor = await require_admin(session, actor)
    ticket = await _load(session, actor, ticket_id)
    if staff_user_id is not None:
        role = await session.scalar(select(User.role).where(User.id == staff_user_id))
        if role is None:
            raise NotFound(f"No user {staff_user_id!r}.")
        if role not in STAFF_ROLES:
            raise InvalidInput("Tickets can only be assigned to staff (admins).", field="assignee")
    ticket.assigned_to = staff_user_id
    if staff_user_id and ticket.status == "open":
        ticket.status = "in_progress"
    ticket.updated_at = clock.now()
    await session.flush()
    await _staff_audit(session, actor, "ticket_assigned", ticket, clock, assignee=staff_user_id)
    if staff_user_id and staff_user_id != actor.user_id:
        await notify(
            session,
            user_id=staff_user_id,
            type=NotificationType.TICKET_STATUS_CHANGED,
            title=f"Ticket assigned to you: {ticket.subject}",
            message=f"Priority {ticket.priority}, category {ticket.category}.",
            metadata={"ticket_id": ticket.id},
            clock=clock,
        )
    await _tell(
        session,
        actor,
        ticket,
        NotificationType.TICKET_STATUS_CHANGED,
        f"Ticket {ticket.status.replace('_', ' ')}: {ticket.subject}",
        "A support agent is looking at your ticket."
        if staff_user_id
        else "Your ticket is back in the queue.",
        clock,
    )
    return _ticket(await loaded(session, ticket))


async def set_status(
    session: AsyncSession, actor: Actor, ticket_id: str, status: str, *, clock: Clock = SYSTEM_CLOCK
) -> TicketView:
    """Staff: move a ticket to open / in_progress / closed (closing sets ``closed_at``)."""
    actor = await require_admin(session, actor)
    status = _choice(status, STATUSES, "status")
    ticket = await _load(session, actor, ticket_id)
    if status == ticket.status:
        return _ticket(await loaded(session, ticket))
    return await _change_status(session, actor, ticket, status, clock)


async def close_ticket(
    session: AsyncSession, actor: Actor, ticket_id: str, *, clock: Clock = SYSTEM_CLOCK
) -> TicketView:
    """The owner or staff closes a ticket."""
    actor = await recheck(session, actor)
    ticket = await _load(session, actor, ticket_id)
    if ticket.status == "closed":
        raise Conflict("This ticket is already closed.")
    return await _change_status(session, actor, ticket, "closed", clock)


async def _change_status(
    session: AsyncSession, actor: Actor, ticket: SupportTicket, status: str, clock: Clock
) -> TicketView:
    before, now = ticket.status, clock.now()
    ticket.status = status
    ticket.closed_at = now if status == "closed" else None
    ticket.updated_at = now
    await session.flush()
    if actor.is_admin and actor.user_id != ticket.user_id:
        await _staff_audit(
            session, actor, "ticket_status_changed", ticket, clock, before=before, after=status
        )
    if status == "closed":
        await _tell(
            session,
            actor,
            ticket,
            NotificationType.TICKET_CLOSED,
            f"Ticket closed: {ticket.subject}",
            "The ticket was closed. Open a new ticket if you need more help.",
            clock,
        )
    else:
        await _tell(
            session,
            actor,
            ticket,
            NotificationType.TICKET_STATUS_CHANGED,
            f"Ticket {status.replace('_', ' ')}: {ticket.subject}",
            f"Status changed from {before.replace('_', ' ')} to {status.replace('_', ' ')}.",
            clock,
        )
    return _ticket(await loaded(session, ticket))


async def set_priority(
    session: AsyncSession,
    actor: Actor,
    ticket_id: str,
    priority: str,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> TicketView:
    """Staff: change the ticket's priority (the owner is told)."""
    actor = await require_admin(session, actor)
    priority = _choice(priority, PRIORITIES, "priority")
    ticket = await _load(session, actor, ticket_id)
    if priority == ticket.priority:
        return _ticket(await loaded(session, ticket))
    before = ticket.priority
    ticket.priority = priority
    ticket.updated_at = clock.now()
    await session.flush()
    await _staff_audit(
        session, actor, "ticket_priority_changed", ticket, clock, before=before, after=priority
    )
    await _tell(
        session,
        actor,
        ticket,
        NotificationType.TICKET_STATUS_CHANGED,
        f"Ticket priority {priority}: {ticket.subject}",
        f"Priority changed from {before} to {priority}.",
        clock,
    )
    return _ticket(await loaded(session, ticket))


async def count_open(session: AsyncSession, actor: Actor) -> int:
    """Staff: tickets not closed yet (for the dashboard's badge)."""
    actor = await require_admin(session, actor)
    return int(
        await session.scalar(
            select(func.count()).select_from(SupportTicket).where(SupportTicket.status != "closed")
        )
        or 0
    )
