"""The data paths work through PgBouncer in transaction pooling mode."""

import asyncio
import subprocess
from decimal import Decimal

from sqlalchemy import func, select, text

from core.db.engine import Database
from core.db.models.trading import PortfolioHistory
from core.db.models.users import User


async def test_queries_and_transactions_through_pgbouncer(bounced_db: Database) -> None:
    # Many concurrent sessions re-running the same statements: with a statement cache, asyncpg
    # would hit "prepared statement does not exist" as pgbouncer hands out other backends.
    async def worker(n: int) -> None:
        for i in range(5):
            async with bounced_db.session() as s:
                user = User(email=f"w{n}-{i}@example.com", password="x")
                s.add(user)
                await s.flush()
                s.add(PortfolioHistory(user_id=user.id, total_value=Decimal("0.1") * i, assets=[]))
                await s.commit()
            async with bounced_db.session() as s:
                assert await s.scalar(select(User.id).where(User.email == f"w{n}-{i}@example.com"))

    await asyncio.gather(*(worker(n) for n in range(8)))
    async with bounced_db.session() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 40
        total = await s.scalar(select(func.sum(PortfolioHistory.total_value)))
    assert total == Decimal("8.0")  # 8 workers x (0 + .1 + .2 + .3 + .4)


async def test_rollback_through_pgbouncer_leaves_nothing(bounced_db: Database) -> None:
    async with bounced_db.session() as s:
        s.add(User(email="gone@example.com", password="x"))
        await s.flush()
        await s.rollback()
    async with bounced_db.session() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0


async def test_it_really_is_pgbouncer(bounced_db: Database, pgbouncer: str) -> None:
    from sqlalchemy.engine import make_url

    from core.db.backup import _embedded_bin

    async with bounced_db.session() as s:
        assert await s.scalar(text("SELECT 1")) == 1
    url = make_url(pgbouncer)
    # The admin console speaks only the simple query protocol: ask it with psql.
    shown = subprocess.run(
        [str(_embedded_bin() / "psql"), "-h", "127.0.0.1", "-p", str(url.port), "-U",
         url.username or "postgres", "-d", "pgbouncer", "-At", "-c", "SHOW POOLS"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert f"|{url.database}|" in shown.stdout or url.database in shown.stdout
    assert "transaction" in shown.stdout


async def test_listen_url_defaults_and_overrides(monkeypatch, migrated_url: str) -> None:
    from core.config import Settings
    from core.db.engine import listen_url

    assert listen_url(migrated_url, Settings(_env_file=None)) == migrated_url
    monkeypatch.setenv("BLOCKBOTX_LISTEN_URL", "postgresql://direct@db:5432/x")
    assert listen_url(migrated_url, Settings()) == "postgresql+asyncpg://direct@db:5432/x"
