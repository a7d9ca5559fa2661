"""Referrals: every user's code, linking a new user to the one who referred them, activation and
the reward.

The rule (docs/commerce.md):
- **pending**: the new user registered with a code (``link_referral``, once per user);
  the referrer gets REFERRAL_JOINED.
- **active**: the referred user has made a trade (paper or live). Found by ``activate_referrals``
  — a periodic check the engine runs, also run when a referrer opens their referrals and when the
  referred user pays — rather than a hook on every booked fill. The referrer gets
  REFERRAL_ACTIVATED.
- **rewarded**: an active referral whose referred user has paid for a plan earns the referrer
  ``REWARD_RATE`` (20 %) of that user's first plan payment, as credit that pays the referrer's own
  plan charges; REWARD_EARNED. One reward per referral.

``referrals.code`` is unique in the schema, so each row stores the code used with a sequence
number: the third person to join with ``K7Q2M9XD`` gets the row code ``K7Q2M9XD-0003``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, and_, cast, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.billing.money import PaymentStatus, cents, money_text
from core.clock import SYSTEM_CLOCK, Clock
from core.db.models.billing import Payment
from core.db.models.notifications import NotificationType
from core.db.models.referrals import Referral
from core.db.models.trading import Trade
from core.db.models.users import User
from core.errors import Conflict, InvalidInput, NotFound
from core.notifications import notify
from core.services.actor import Actor

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 8
_CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
REWARD_RATE = Decimal("0.20")
PENDING, ACTIVE, REWARDED = "pending", "active", "rewarded"
PLAN_PAYMENT = "subscription"


@dataclass(frozen=True, slots=True)
class ReferralView:
    id: str
    code: str
    referred: str  # the referred user's email, masked
    status: str
    reward_amount: Decimal
    created_at: datetime
    rewarded_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReferralSummary:
    code: str
    referrals: tuple[ReferralView, ...]
    pending: int
    active: int
    rewarded: int
    earned: Decimal
    credit: Decimal  # earned and not yet spent on plan charges
    reward_rate: Decimal


def mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}" if domain else f"{email[:1]}•••"


def normalize_code(code: str) -> str:
    value = (code or "").strip().upper()
    if not _CODE.match(value):
        raise InvalidInput(
            f"{code!r} is not a referral code (8 letters and digits, like K7Q2M9XD).",
            field="referral_code",
        )
    return value


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def ensure_code(session: AsyncSession, user_id: str) -> str:
    """The user's referral code, generated on first need (users created before had none)."""
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"No user {user_id!r}.")
    if user.referral_code:
        return user.referral_code
    for _ in range(8):  # 32^8 codes: a clash is rare, and retried
        code = _new_code()
        try:
            async with session.begin_nested():
                user.referral_code = code
                await session.flush()
            return code
        except IntegrityError:
            user.referral_code = None
    raise Conflict("Could not generate a referral code; try again.")


async def my_code(session: AsyncSession, actor: Actor) -> str:
    return await ensure_code(session, actor.user_id)


async def link_referral(
    session: AsyncSession, new_user_id: str, code: str | None, *, clock: Clock = SYSTEM_CLOCK
) -> ReferralView | None:
    """Link a just-registered user to the owner of ``code`` (nothing for an empty code).

    Called inside registration's transaction: an unknown code is an InvalidInput that undoes
    the registration, so the person can correct it.
    """
    if code is None or not code.strip():
        return None
    value = normalize_code(code)
    referrer = await session.scalar(
        select(User).where(User.referral_code == value).with_for_update()
    )
    if referrer is None:
        raise InvalidInput(
            f"No account has the referral code {value}; check it or leave it empty.",
            field="referral_code",
        )
    if referrer.id == new_user_id:
        raise InvalidInput("You can't use your own referral code.", field="referral_code")
    already = await session.scalar(select(Referral.id).where(Referral.referred_id == new_user_id))
    if already is not None:
        raise Conflict("This account was already referred by someone.")
    new_user = await session.get(User, new_user_id)
    if new_user is None:
        raise NotFound(f"No user {new_user_id!r}.")
    used = await session.scalars(select(Referral.code).where(Referral.referrer_id == referrer.id))
    sequence = 1 + max((int(c.rsplit("-", 1)[1]) for c in used if "-" in c), default=0)
    now = clock.now()
    row = Referral(
        referrer_id=referrer.id,
        referred_id=new_user_id,
        code=f"{value}-{sequence:04d}",
        reward_amount=Decimal(0),
        status=PENDING,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await notify(
        session,
        user_id=referrer.id,
        type=NotificationType.REFERRAL_JOINED,
        title="Someone joined with your referral code",
        message=f"{mask_email(new_user.email)} signed up with your code {value}. The referral "
        "becomes active with their first trade.",
        metadata={"referral_id": row.id},
        clock=clock,
    )
    return _view(row, new_user.email)


def _view(row: Referral, email: str) -> ReferralView:
    return ReferralView(
        row.id,
        row.code,
        mask_email(email),
        row.status,
        row.reward_amount,
        row.created_at,
        row.rewarded_at,
    )


async def _first_plan_payment(session: AsyncSession, user_id: str) -> Decimal | None:
    return await session.scalar(
        select(Payment.amount)
        .where(
            Payment.user_id == user_id,
            Payment.type == PLAN_PAYMENT,
            Payment.status == PaymentStatus.COMPLETED,
            Payment.amount > 0,
        )
        .order_by(Payment.completed_at, Payment.id)
        .limit(1)
    )


async def _reward(session: AsyncSession, row: Referral, clock: Clock) -> None:
    paid = await _first_plan_payment(session, row.referred_id)
    if row.status != ACTIVE or paid is None:
        return
    row.reward_amount = cents(paid * REWARD_RATE)
    row.status = REWARDED
    row.rewarded_at = clock.now()
    await notify(
        session,
        user_id=row.referrer_id,
        type=NotificationType.REWARD_EARNED,
        title="You earned a referral reward",
        message=f"{money_text(row.reward_amount)} of credit for your plan: someone you referred "
        "subscribed. It is used on your next plan charge.",
        metadata={"referral_id": row.id, "reward": str(row.reward_amount)},
        clock=clock,
    )


async def activate_referrals(
    session: AsyncSession,
    *,
    referrer_id: str | None = None,
    referred_id: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Activate pending referrals whose referred user has traded (all, or one side's); then
    reward active ones whose referred user has paid. Returns how many changed status.
    The engine calls it periodically; it is safe to run from several processes at once."""
    stmt = (
        select(Referral)
        .where(Referral.status.in_((PENDING, ACTIVE)))
        .with_for_update(skip_locked=True)
        .order_by(Referral.created_at, Referral.id)
    )
    if referrer_id is not None:
        stmt = stmt.where(Referral.referrer_id == referrer_id)
    if referred_id is not None:
        stmt = stmt.where(Referral.referred_id == referred_id)
    changed = 0
    for row in (await session.scalars(stmt)).all():
        if row.status == PENDING:
            traded = await session.scalar(select(exists().where(Trade.user_id == row.referred_id)))
            if not traded:
                continue
            row.status = ACTIVE
            changed += 1
            email = await session.scalar(select(User.email).where(User.id == row.referred_id))
            await notify(
                session,
                user_id=row.referrer_id,
                type=NotificationType.REFERRAL_ACTIVATED,
                title="Your referral is active",
                message=f"{mask_email(email or '')} made their first trade. When they pay for a "
                f"plan you earn {REWARD_RATE * 100:.0f}% of their first payment as credit.",
                metadata={"referral_id": row.id},
                clock=clock,
            )
        status = row.status
        await _reward(session, row, clock)
        changed += row.status != status
    await session.flush()
    return changed


async def available_credit(session: AsyncSession, user_id: str) -> Decimal:
    """Rewards earned minus credit already spent (by pending or completed plan payments)."""
    earned = await session.scalar(
        select(func.coalesce(func.sum(Referral.reward_amount), 0)).where(
            Referral.referrer_id == user_id, Referral.status == REWARDED
        )
    )
    spent = await session.scalar(
        select(
            func.coalesce(
                func.sum(cast(Payment.metadata_["referral_credit"].astext, Numeric(65, 30))), 0
            )
        ).where(
            and_(
                Payment.user_id == user_id,
                Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.COMPLETED)),
                Payment.metadata_.has_key("referral_credit"),
            )
        )
    )
    return max(Decimal(earned or 0) - Decimal(spent or 0), Decimal(0))


async def list_referrals(session: AsyncSession, actor: Actor) -> list[ReferralView]:
    rows = await session.execute(
        select(Referral, User.email)
        .join(User, User.id == Referral.referred_id)
        .where(Referral.referrer_id == actor.user_id)
        .order_by(Referral.created_at.desc(), Referral.id.desc())
    )
    return [_view(r, email) for r, email in rows.all()]


async def referral_summary(
    session: AsyncSession, actor: Actor, *, clock: Clock = SYSTEM_CLOCK
) -> ReferralSummary:
    """The actor's code (made on first need), their referrals brought up to date, the credit."""
    code = await ensure_code(session, actor.user_id)
    await activate_referrals(session, referrer_id=actor.user_id, clock=clock)
    items = await list_referrals(session, actor)
    counts = {s: sum(1 for r in items if r.status == s) for s in (PENDING, ACTIVE, REWARDED)}
    return ReferralSummary(
        code=code,
        referrals=tuple(items),
        pending=counts[PENDING],
        active=counts[ACTIVE],
        rewarded=counts[REWARDED],
        earned=sum((r.reward_amount for r in items), Decimal(0)),
        credit=await available_credit(session, actor.user_id),
        reward_rate=REWARD_RATE,
    )
