"""The acting user's profile and display preferences (theme, language, time zone, currency).

Reads and partial updates of the ``users`` row's own descriptive columns; email, password,
role and status are changed elsewhere (accounts, admin). A change is validated as a whole and
applied in the caller's transaction, so a bad field changes nothing.

Display choices are honest about what BlockbotX can do: the interface speaks English only, and
figures are in US dollars (the quote currency of the markets), so the currency choice is only
how dollar amounts are labelled — converting to EUR or others would need an exchange-rate source
BlockbotX doesn't have.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.users import User
from core.errors import InvalidInput, NotFound
from core.services.actor import Actor
from core.services.validation import parse

LANGUAGES: dict[str, str] = {"en": "English"}
CURRENCIES: dict[str, str] = {
    "USD": "US dollar ($)",
    "USDT": "Tether (USDT, 1:1 with USD)",
    "USDC": "USD Coin (USDC, 1:1 with USD)",
}
THEME_ALIASES = {"light": "blockbotx-light", "dark": "blockbotx-dark"}
"""The seed's ``users.theme`` values, as the themes they mean here."""
REGISTERED_THEME = "dark"
"""What registration stores: a terminal dashboard starts dark (the seed's column default,
``light``, stays the schema's, for rows made some other way)."""
TEXT_MAX = 64
BIO_MAX = 500
_THEME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{4,32}$")


class ProfileView(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    email: str
    first_name: str | None
    last_name: str | None
    bio: str | None
    phone: str | None
    location: str | None
    website: str | None
    company: str | None
    position: str | None
    timezone: str | None
    language: str
    theme: str
    currency: str


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone this system knows, sorted (UTC first)."""
    return ("UTC", *sorted(z for z in available_timezones() if z != "UTC"))


def theme_name(stored: str | None) -> str | None:
    """The app theme a stored ``users.theme`` means (seed aliases resolved)."""
    if not stored:
        return None
    return THEME_ALIASES.get(stored, stored)


def _text(limit: int):
    def check(v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip()
        if len(v) > limit or not v.isprintable():
            raise ValueError(f"must be printable text of at most {limit} characters")
        return v or None

    return check


class ProfileUpdate(BaseModel):
    """A partial change: fields left out keep their value; an empty text clears it."""

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    last_name: str | None = None
    bio: str | None = None
    phone: str | None = None
    location: str | None = None
    website: str | None = None
    company: str | None = None
    position: str | None = None
    timezone: str | None = None
    language: str | None = None
    theme: str | None = None
    currency: str | None = None

    _short = field_validator("first_name", "last_name", "location", "company", "position")(
        _text(TEXT_MAX)
    )
    _bio = field_validator("bio")(_text(BIO_MAX))

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        v = _text(TEXT_MAX)(v)
        if v is not None and not _PHONE.match(v):
            raise ValueError("must be digits, spaces, dashes or brackets, optionally after a +")
        return v

    @field_validator("website")
    @classmethod
    def _website(cls, v: str | None) -> str | None:
        v = _text(200)(v)
        if v is not None and not re.match(r"^https?://[^\s/]+\.[^\s]+$", v):
            raise ValueError("must be a web address starting with https:// or http://")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{v!r} is not a time zone (for example Europe/Paris)") from None
        return v

    @field_validator("language")
    @classmethod
    def _language(cls, v: str | None) -> str | None:
        if v is not None and v not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v is not None and v.strip().upper() not in CURRENCIES:
            raise ValueError(f"must be one of {', '.join(CURRENCIES)}")
        return None if v is None else v.strip().upper()

    @field_validator("theme")
    @classmethod
    def _theme(cls, v: str | None) -> str | None:
        if v is not None and not _THEME.match(v):
            raise ValueError("must be a theme name (lower-case letters, digits and dashes)")
        return v


_REQUIRED = {"language", "theme", "currency"}


async def _user(session: AsyncSession, actor: Actor, *, lock: bool = False) -> User:
    stmt = select(User).where(User.id == actor.user_id)
    if lock:
        stmt = stmt.with_for_update()
    user = await session.scalar(stmt)
    if user is None:
        raise NotFound("This account no longer exists.")
    return user


async def get_profile(session: AsyncSession, actor: Actor) -> ProfileView:
    return ProfileView.model_validate(await _user(session, actor))


async def update_profile(
    session: AsyncSession, actor: Actor, changes: ProfileUpdate | dict[str, Any]
) -> ProfileView:
    given = parse(ProfileUpdate, changes).model_dump(exclude_unset=True)
    for name in _REQUIRED:
        if name in given and given[name] is None:
            raise InvalidInput(f"{name} can't be empty.", field=name)
    user = await _user(session, actor, lock=True)
    for name, value in given.items():
        setattr(user, name, value)
    await session.flush()
    return ProfileView.model_validate(user)
