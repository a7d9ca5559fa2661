"""No live order left behind: housekeeping's sweep over every live order still pending or open.

Each is asked of its exchange by client order id (one client per connection, opened for the
order's owner, never marked as used): fills that happened are booked, a cancel or a rejection
recorded. A *pending* order the exchange doesn't know is asked again on the next sweeps and
marked failed, with the exchange's answer, after ``misses`` checks in a row (an order sent just
before a crash may take a moment to appear; hummingbot's order tracker does the same). Exchange
outages only postpone the check. The miss counts live in this process: another engine process
counts on its own, which can only delay a failure, never book twice (booking is idempotent).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from core.brokers.ccxt_broker import CcxtBroker
from core.brokers.connections import open_exchange
from core.brokers.types import OrderStatus
from core.db.engine import Database
from core.db.models.trading import Order
from core.errors import InvalidInput, ServiceError
from core.ledger.orders import OrderDesk
from core.ledger.wallets import get_wallet
from core.market.ccxt_client import ExchangeFactory
from core.market.errors import ExchangeFailure

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepReport:
    checked: int = 0
    settled: int = 0
    """Orders that reached a final state (filled, cancelled, failed) in this sweep."""
    failed: int = 0
    """Pending orders the exchange never knew, marked failed in this sweep."""
    postponed: int = 0
    """Orders that could not be asked (exchange down, connection disabled)."""


@dataclass
class OrderSweep:
    desk: OrderDesk
    exchanges: ExchangeFactory
    misses_allowed: int = 3
    misses: dict[str, int] = field(default_factory=dict)

    async def run(self, db: Database, *, older_than: datetime) -> SweepReport:
        """Reconcile every live order pending or open and untouched since ``older_than``."""
        async with db.session() as session:
            ids = await self.desk.pending_live_orders(session, older_than)
            owners: dict[tuple[str | None, str], list[str]] = defaultdict(list)
            for order_id in ids:
                order = await session.get(Order, order_id)
                if order is None or order.wallet_id is None:
                    continue
                wallet = await get_wallet(session, order.wallet_id)
                owners[(wallet.exchange_connection_id, wallet.user_id)].append(order_id)
        totals = [0, 0, 0, 0]
        for (connection_id, user_id), order_ids in owners.items():
            for i, n in enumerate(await self._sweep(db, connection_id, user_id, order_ids)):
                totals[i] += n
        self.misses = {k: v for k, v in self.misses.items() if k in ids}
        return SweepReport(*totals)

    async def _sweep(
        self, db: Database, connection_id: str | None, user_id: str, order_ids: list[str]
    ) -> tuple[int, int, int, int]:
        if connection_id is None:
            log.warning("live orders %s: their exchange connection was removed", order_ids)
            return len(order_ids), 0, 0, len(order_ids)
        try:
            async with db.session() as session:
                info, exchange = await open_exchange(
                    session,
                    connection_id,
                    owner_id=user_id,
                    factory=self.exchanges,
                    clock=self.desk.clock,
                    allow_inactive=True,
                    mark_used=False,
                )
        except ServiceError as exc:
            log.warning("live orders %s not checked: %s", order_ids, exc)
            return len(order_ids), 0, 0, len(order_ids)
        broker = CcxtBroker(exchange, venue=info.venue, clock=self.desk.clock)
        settled = failed = postponed = 0
        try:
            for order_id in order_ids:
                seen = self.misses.get(order_id, 0) + 1
                try:
                    result = await self.desk.reconcile(
                        db.sessions, broker, order_id, fail_unknown=seen >= self.misses_allowed
                    )
                except ExchangeFailure as exc:
                    log.warning("%s: order %s not checked: %s", info.venue, order_id, exc)
                    postponed += 1
                    continue
                except InvalidInput as exc:
                    self.misses[order_id] = seen
                    log.info("%s: order %s unknown (check %d of %d): %s", info.venue, order_id,
                             seen, self.misses_allowed, exc)  # fmt: skip
                    continue
                self.misses.pop(order_id, None)
                if result.status.is_final:
                    settled += 1
                    failed += result.status is OrderStatus.FAILED
        finally:
            await exchange.close()
        return len(order_ids), settled, failed, postponed
