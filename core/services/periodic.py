"""The services' periodic work, as jobs for the engine's housekeeping: subscription renewals
and expiry (``plans.run_billing``), referral activation and rewards
(``referrals.activate_referrals``), stale cached analytics (``analytics.refresh_stale``) and
expired data exports (``privacy.purge_expired_exports``). These are system jobs: they act for
no user, so they take no actor.

Whoever starts an engine (``blockbotx engine``, the dashboard's own engine) passes
``engine_jobs(db)`` to it; the engine runs each on its interval, one engine at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta

from core.billing.payments import Billing
from core.clock import Clock
from core.config import get_settings
from core.db.engine import Database
from core.engine.periodic import PeriodicJob
from core.services import analytics, plans, privacy, referrals

BILLING_EVERY = timedelta(minutes=5)
REFERRALS_EVERY = timedelta(minutes=5)
ANALYTICS_EVERY = timedelta(minutes=5)
EXPORTS_EVERY = timedelta(hours=1)

# Advisory-lock keys, next to the engine housekeeping's own (7_301...).
_LOCKS = {"billing": 7_401, "referrals": 7_402, "analytics": 7_403, "exports": 7_404}

BillingOpener = Callable[[Clock], AbstractAsyncContextManager[Billing]]


@asynccontextmanager
async def configured_billing(clock: Clock) -> AsyncIterator[Billing]:
    """Stripe as configured, opened for one run and closed after it; with no Stripe key there
    is no gateway, and a subscription that should renew lapses (it can't be charged)."""
    settings = get_settings()
    if settings.stripe_api_key is None:
        yield Billing(None, clock)
        return
    from core.billing.configured import StripeNotInstalled, gateway_from_settings

    try:
        gateway = gateway_from_settings(settings)  # imports stripe: only when set up
    except StripeNotInstalled as missing:
        yield Billing(None, clock, unavailable=str(missing))
        return
    try:
        yield Billing(gateway, clock)
    finally:
        if gateway is not None:
            await gateway.close()


def engine_jobs(
    db: Database, *, billing: BillingOpener = configured_billing
) -> tuple[PeriodicJob, ...]:
    async def renewals(clock: Clock) -> plans.BillingRun:
        async with billing(clock) as context:
            return await plans.run_billing(db, context)

    async def referral_activation(clock: Clock) -> int:
        async with db.sessions.begin() as session:
            return await referrals.activate_referrals(session, clock=clock)

    async def stale_analytics(clock: Clock) -> int:
        return await analytics.refresh_stale(db, clock=clock)

    async def expired_exports(clock: Clock) -> int:
        return await privacy.purge_expired_exports(db, clock=clock)

    return (
        PeriodicJob("billing", _LOCKS["billing"], BILLING_EVERY, renewals),
        PeriodicJob("referrals", _LOCKS["referrals"], REFERRALS_EVERY, referral_activation),
        PeriodicJob("analytics", _LOCKS["analytics"], ANALYTICS_EVERY, stale_analytics),
        PeriodicJob("exports", _LOCKS["exports"], EXPORTS_EVERY, expired_exports),
    )
