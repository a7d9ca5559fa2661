"""The services' periodic jobs run from the engine's housekeeping on the test clock: a
subscription renews and one lapses, a referral activates, stale analytics are refreshed,
expired exports deleted; two engines never run a job at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from core.billing.payments import Billing
from core.clock import Clock, FrozenClock
from core.db.engine import Database
from core.db.models.analytics import Analytics
from core.db.models.referrals import Referral
from core.db.models.users import DataExport
from core.engine.periodic import PeriodicJob, PeriodicRunner, run_locked
from core.engine.runner import EngineRunner
from core.services import periodic, plans, privacy, referrals
from tests.billing.fake_stripe import DECLINED_CARD, FakeStripe
from tests.billing.support import add_card, received
from tests.billing.test_plans import plan_name
from tests.referrals.test_referrals import trade
from tests.service_users import add_user


def engine(db: Database, clock: FrozenClock, billing: Billing) -> EngineRunner:
    @asynccontextmanager
    async def opener(_clock: Clock) -> AsyncIterator[Billing]:
        yield billing  # the Stripe stand-in, on the test clock

    return EngineRunner(db, clock=clock, jobs=periodic.engine_jobs(db, billing=opener))


async def stamps(db: Database, user_id: str) -> set[object]:
    async with db.session() as s:
        return set(
            await s.scalars(select(Analytics.updated_at).where(Analytics.user_id == user_id))
        )


async def test_housekeeping_renews_lapses_refreshes_and_purges(
    db: Database, billing: Billing, fake_stripe: FakeStripe, clock: FrozenClock
) -> None:
    gus = await add_user(db, "gus@example.com")
    hal = await add_user(db, "hal@example.com")
    await add_card(db, billing, fake_stripe, gus)
    hal_customer = await add_card(db, billing, fake_stripe, hal)
    await plans.choose_plan(db, gus, "pro", billing=billing)
    await plans.choose_plan(db, hal, "basic", billing=billing)
    fake_stripe.cards[hal_customer] = [DECLINED_CARD]  # hal's renewal will be declined
    export = await privacy.request_export(db, gus, "profile", fmt="json", clock=clock)
    ivy = await add_user(db, "ivy@example.com")
    async with db.sessions.begin() as s:
        code = await referrals.my_code(s, gus)
        await referrals.link_referral(s, ivy.user_id, code, clock=clock)
    await trade(db, ivy.user_id)  # the referred user traded: the referral activates
    runner = engine(db, clock, billing)
    try:
        await runner.housekeeping_once()  # nothing due yet but the first analytics
        assert await plan_name(db, gus, clock) == "pro" and len(fake_stripe.charges()) == 2
        first = await stamps(db, gus.user_id)
        assert first, "analytics computed for an active user"
        async with db.session() as s:  # the row itself: the summary would activate it too
            assert list(await s.scalars(select(Referral.status))) == ["active"]

        clock.advance(days=30)  # both periods end; the exports' 7 days are over too
        await runner.housekeeping_once()
        assert await plan_name(db, gus, clock) == "pro"  # renewed: charged again
        assert len(fake_stripe.charges()) == 3
        assert "SUBSCRIPTION_RENEWED" in await received(db, gus.user_id)
        assert await plan_name(db, hal, clock) == "free"  # the card declined: lapsed
        assert "PAYMENT_FAILED" in await received(db, hal.user_id)
        assert (await stamps(db, gus.user_id)).isdisjoint(first)  # stale: recomputed
        assert not Path(export.file_url).exists()
        async with db.session() as s:
            assert await s.scalar(select(func.count()).select_from(DataExport)) == 0

        # within the jobs' intervals nothing runs again
        clock.advance(minutes=1)
        assert await runner.periodic.run_due() == {}
    finally:
        await runner.ctx.close()
        await runner.markets.hubs.close()


async def test_a_job_another_engine_holds_is_skipped_then_runs(
    db: Database, clock: FrozenClock
) -> None:
    ran: list[str] = []

    async def job(_clock: Clock) -> int:
        ran.append("x")
        return len(ran)

    counted = PeriodicJob("count", 7_499, timedelta(minutes=5), job)
    async with db.engine.connect() as other, other.begin():
        # another engine is running this job: it holds the job's lock
        await other.execute(text("SELECT pg_advisory_xact_lock(7499)"))
        assert await run_locked(db, counted, clock) == (False, None)
    assert ran == []
    runner = PeriodicRunner(db, [counted], clock)
    assert await runner.run_due() == {"count": 1}
    assert await runner.run_due() == {}  # not due again yet
    clock.advance(minutes=5)
    assert await runner.run_due() == {"count": 2}


async def test_a_failing_job_is_logged_and_the_others_still_run(
    db: Database, clock: FrozenClock, caplog
) -> None:  # type: ignore[no-untyped-def]
    async def broken(_clock: Clock) -> None:
        raise RuntimeError("the gateway is down")

    async def fine(_clock: Clock) -> str:
        await asyncio.sleep(0)
        return "ok"

    runner = PeriodicRunner(
        db,
        [
            PeriodicJob("broken", 7_497, timedelta(minutes=5), broken),
            PeriodicJob("fine", 7_498, timedelta(minutes=5), fine),
        ],
        clock,
    )
    assert await runner.run_due() == {"fine": "ok"}
    assert "engine periodic job broken failed: the gateway is down" in caplog.text
