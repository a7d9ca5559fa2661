"""Profile and display preferences: partial updates, validation that changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db.engine import Database
from core.errors import InvalidInput
from core.services import profile
from core.services.profile import theme_name, time_zones
from tests.service_users import add_user


async def test_partial_update_keeps_the_rest(db: Database) -> None:
    me = await add_user(db, "ann@example.com", first_name="Ann")
    async with db.sessions.begin() as s:
        view = await profile.update_profile(
            s, me, {"last_name": " Lee ", "timezone": "Europe/Paris", "currency": "usdt"}
        )
    assert (view.first_name, view.last_name, view.timezone, view.currency) == (
        "Ann", "Lee", "Europe/Paris", "USDT",
    )  # fmt: skip
    async with db.sessions.begin() as s:
        view = await profile.update_profile(s, me, {"first_name": "", "theme": "nord"})
    assert view.first_name is None  # an empty text clears
    assert view.theme == "nord" and view.last_name == "Lee"
    async with db.session() as s:
        assert await profile.get_profile(s, me) == view


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"language": "xx"}, "language"),
        ({"currency": "EUR"}, "currency"),
        ({"theme": "Bad Theme!"}, "theme"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"phone": "call me"}, "phone"),
        ({"first_name": "x" * 65}, "first_name"),
        ({"language": None}, "language"),
        ({"email": "someone@else.com"}, "email"),
        ({"role": "superadmin"}, "role"),
    ],
)
async def test_bad_input_changes_nothing(db: Database, changes: dict, field: str) -> None:
    me = await add_user(db, "ann@example.com", first_name="Ann")
    async with db.session() as s:
        before = await profile.get_profile(s, me)
    with pytest.raises(InvalidInput) as caught:
        async with db.sessions.begin() as s:
            await profile.update_profile(s, me, {"first_name": "Changed", **changes})
    assert caught.value.field == field
    async with db.session() as s:
        assert await profile.get_profile(s, me) == before


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=80))
def test_any_text_for_a_time_zone_is_accepted_only_if_real(text: str) -> None:
    try:
        update = profile.ProfileUpdate(timezone=text)
    except Exception as exc:  # pydantic's ValidationError
        assert "time zone" in str(exc)
        return
    assert update.timezone is None or update.timezone in time_zones() or update.timezone.strip()


def test_seed_theme_names_map_to_ours() -> None:
    assert theme_name("light") == "blockbotx-light"
    assert theme_name("dark") == "blockbotx-dark"
    assert theme_name("nord") == "nord"
    assert theme_name(None) is None
    assert time_zones()[0] == "UTC" and "Europe/Paris" in time_zones()
