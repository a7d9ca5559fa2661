"""Money is Decimal end to end: NUMERIC(65,30) in, decimal.Decimal out, exactly."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.db.engine import Database
from core.db.models.trading import PortfolioHistory
from core.db.models.users import User


async def _user(db: Database) -> str:
    async with db.session() as s:
        user = User(email="money@example.com", password="x")
        s.add(user)
        await s.commit()
        return user.id


async def test_point_one_plus_point_two_is_exactly_point_three(db: Database) -> None:
    user_id = await _user(db)
    async with db.session() as s:
        row = PortfolioHistory(
            user_id=user_id, total_value=Decimal("0.1") + Decimal("0.2"), assets=[]
        )
        s.add(row)
        await s.commit()
    async with db.session() as s:
        value = await s.scalar(select(PortfolioHistory.total_value))
    assert isinstance(value, Decimal)
    assert value == Decimal("0.3")


async def test_thirty_decimal_places_survive(db: Database) -> None:
    user_id = await _user(db)
    exact = Decimal("12345678901234567890123456789012345.123456789012345678901234567891")
    async with db.session() as s:
        s.add(PortfolioHistory(user_id=user_id, total_value=exact, assets=[]))
        await s.commit()
    async with db.session() as s:
        value = await s.scalar(select(PortfolioHistory.total_value))
    assert value == exact
    assert value.as_tuple().exponent == -30


# Rows accumulate across examples on purpose: each one checks only its own row.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.decimals(min_value=Decimal("-1e34"), max_value=Decimal("1e34"), places=30, allow_nan=False)
)
async def test_any_numeric_65_30_value_round_trips(db: Database, value: Decimal) -> None:
    async with db.session() as s:
        user = await s.scalar(select(User).limit(1))
        if user is None:
            user = User(email="rt@example.com", password="x")
            s.add(user)
            await s.flush()
        row = PortfolioHistory(user_id=user.id, total_value=value, assets=[])
        s.add(row)
        await s.commit()
        back = await s.scalar(
            select(PortfolioHistory.total_value).where(PortfolioHistory.id == row.id)
        )
    assert back == value
