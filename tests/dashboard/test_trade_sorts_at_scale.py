"""Every sort order of the trade history against PostgreSQL's own ORDER BY, over 100,000 trades
of one user (inserted with generate_series): the first pages walked by cursor, a page from deep
inside the set and the last page, in both directions. Totals repeat 100 times, symbols 25,000
times and half the P&L values are NULL, so ties are broken by id at every boundary; another
user's trades never show. (On the shared CI machine 200,000 trades took a minute and 1,000,000
six — the OFFSET queries that give SQL's answer are the cost — and exercise nothing more: the
keyset predicate is the same at any depth.)"""

from __future__ import annotations

from sqlalchemy import text

from core.db.engine import Database
from core.services import trade_history
from core.services.actor import Actor
from tests.tui.auth_helpers import make_auth
from tests.tui.dash_helpers import bulk_trades, seed_user

TRADES = 100_000
PAGE = 500
SQL_KEY = {
    "time": "executed_at",
    "symbol": "symbol",
    "total": "total",
    "pnl": "coalesce(profit_loss, 0)",
}


async def _sql(db: Database, actor: Actor, sort: str, desc: bool, offset: int, limit: int):  # type: ignore[no-untyped-def]
    way = "DESC" if desc else "ASC"
    async with db.session() as s:
        return (
            await s.execute(
                text(
                    f"SELECT {SQL_KEY[sort]}, id FROM trades WHERE user_id = :u"
                    f" ORDER BY {SQL_KEY[sort]} {way}, id {way} OFFSET :o LIMIT :n"
                ),
                {"u": actor.user_id, "o": offset, "n": limit},
            )
        ).all()


def _cursor(key: object) -> str:
    return key.isoformat() if hasattr(key, "isoformat") else str(key)  # type: ignore[union-attr]


async def test_every_order_matches_sql(db: Database) -> None:
    actor, _ = await seed_user(db, make_auth(), "million@example.com")
    other, _ = await seed_user(db, make_auth(), "other@example.com")
    await bulk_trades(db, actor.user_id, TRADES)
    await bulk_trades(db, other.user_id, 1000)
    for sort in SQL_KEY:
        for desc in (True, False):
            await _check(db, actor, sort, desc)


async def _check(db: Database, actor: Actor, sort: str, desc: bool) -> None:
    async def page(after: str | None) -> tuple[list[str], str | None]:
        found = await trade_history.search(
            db, actor, sort=sort, descending=desc, limit=PAGE, after=after
        )
        return [r.trade.id for r in found.items], found.next_cursor

    walked, after = [], None
    for _ in range(3):
        ids, after = await page(after)
        walked += ids
    assert walked == [row.id for row in await _sql(db, actor, sort, desc, 0, 3 * PAGE)], sort

    for start in (TRADES // 2, TRADES - 300):  # deep inside, and the last page
        key, row_id = (await _sql(db, actor, sort, desc, start - 1, 1))[0]
        ids, after = await page(f"{_cursor(key)}|{row_id}")
        want = [row.id for row in await _sql(db, actor, sort, desc, start, PAGE)]
        assert ids == want, (sort, desc, start)
        assert (after is None) == (len(want) < PAGE)
