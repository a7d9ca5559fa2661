"""Pairing a Telegram chat with an account, for Telegram control (``blockbotx telegram serve``).

The user asks for a one-time code (Security screen, Telegram tab); it is shown once, lives
``CODE_LIFETIME`` and only its SHA-256 is stored. Sending ``/start CODE`` to the bot pairs that
chat with the account (a chat belongs to one account; an account has one chat). From then on the
bot acts as that user — re-reading the account on every update, so a ban or suspension takes
effect on the next message (``chat_actor``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SYSTEM_CLOCK, Clock
from core.db.engine import Database
from core.db.models.telegram import TelegramLink
from core.db.models.users import User
from core.errors import InvalidInput
from core.services.actor import Actor, Role, status_refusal
from core.services.audit import audit

CODE_LIFETIME = timedelta(minutes=10)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: the code is read off a screen and typed on a phone."""
CODE_LENGTH = 8


@dataclass(frozen=True, slots=True)
class PairingCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LinkState:
    paired: bool
    chat: str | None
    """The paired chat id, for the user to recognise (it is not a secret)."""
    paired_at: datetime | None
    code_expires_at: datetime | None
    """While a code is waiting to be used."""


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode("utf-8")).hexdigest()


async def _audit(
    session: AsyncSession, user_id: str, action: str, at: datetime, **details: object
) -> None:
    await audit(session, user_id=user_id, action=action, at=at, details=details)


async def new_pairing_code(
    db: Database, actor: Actor, *, clock: Clock = SYSTEM_CLOCK
) -> PairingCode:
    """A new code for the actor (any earlier unused one stops working); shown once."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = clock.now()
    expires = now + CODE_LIFETIME
    async with db.sessions.begin() as session:
        stmt = insert(TelegramLink).values(
            user_id=actor.user_id, code_hash=_hash(code), code_expires_at=expires
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[TelegramLink.user_id],
                set_={"code_hash": stmt.excluded.code_hash,
                      "code_expires_at": stmt.excluded.code_expires_at, "updated_at": now},
            )
        )  # fmt: skip
        await _audit(session, actor.user_id, "telegram_code_created", now)
    return PairingCode(code, expires)


async def link_state(db: Database, actor: Actor, *, clock: Clock = SYSTEM_CLOCK) -> LinkState:
    async with db.session() as session:
        row = await session.scalar(
            select(TelegramLink).where(TelegramLink.user_id == actor.user_id)
        )
    if row is None:
        return LinkState(False, None, None, None)
    pending = (
        row.code_expires_at
        if row.code_hash and row.code_expires_at and row.code_expires_at > clock.now()
        else None
    )
    return LinkState(
        row.chat_id is not None,
        None if row.chat_id is None else str(row.chat_id),
        row.paired_at,
        pending,
    )


async def unpair(db: Database, actor: Actor, *, clock: Clock = SYSTEM_CLOCK) -> bool:
    """Forget the actor's chat (and any pending code); False when none was paired."""
    now = clock.now()
    async with db.sessions.begin() as session:
        row = await session.scalar(
            select(TelegramLink).where(TelegramLink.user_id == actor.user_id).with_for_update()
        )
        if row is None or row.chat_id is None:
            if row is not None:
                row.code_hash = row.code_expires_at = None
            return False
        row.chat_id = row.paired_at = row.code_hash = row.code_expires_at = None
        await _audit(session, actor.user_id, "telegram_unpaired", now)
    return True


def _actor(user: User) -> Actor:
    role = Role(user.role) if user.role in Role._value2member_map_ else Role.USER
    return Actor(user_id=user.id, role=role)


async def pair_chat(db: Database, chat_id: int, code: str, *, clock: Clock = SYSTEM_CLOCK) -> Actor:
    """Pair ``chat_id`` with the account whose unexpired code this is, as that account.

    A wrong or expired code, or an account that may not sign in, is ``InvalidInput`` /
    ``Forbidden`` and changes nothing. A chat paired with another account moves to this one.
    """
    if not isinstance(code, str) or not code.strip() or len(code) > 64:
        raise InvalidInput(
            "Send /start followed by the code from the Security screen.", field="code"
        )
    now = clock.now()
    async with db.sessions.begin() as session:
        row = await session.scalar(
            select(TelegramLink)
            .where(TelegramLink.code_hash == _hash(code), TelegramLink.code_expires_at > now)
            .with_for_update()
        )
        if row is None:
            raise InvalidInput(
                "That code is wrong or has expired; make a new one in the Security screen.",
                field="code",
            )
        user = await session.get(User, row.user_id)
        refusal = None if user is None else status_refusal(user, now)
        if user is None or refusal is not None:
            raise refusal or InvalidInput("That code is wrong or has expired.", field="code")
        await session.execute(
            update(TelegramLink)
            .where(TelegramLink.chat_id == chat_id, TelegramLink.id != row.id)
            .values(chat_id=None, paired_at=None, updated_at=now)
        )
        row.chat_id, row.paired_at = chat_id, now
        row.code_hash = row.code_expires_at = None
        await _audit(session, user.id, "telegram_paired", now, chat_id=chat_id)
        return _actor(user)


async def chat_actor(db: Database, chat_id: int, *, clock: Clock = SYSTEM_CLOCK) -> Actor | None:
    """The account a chat acts for, read afresh: None for an unpaired chat; ``Forbidden`` for a
    banned or suspended account."""
    async with db.session() as session:
        user = await session.scalar(
            select(User)
            .join(TelegramLink, TelegramLink.user_id == User.id)
            .where(TelegramLink.chat_id == chat_id)
        )
    if user is None:
        return None
    refusal = status_refusal(user, clock.now())
    if refusal is not None:
        raise refusal
    return _actor(user)
