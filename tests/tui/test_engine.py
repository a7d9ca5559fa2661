"""Engine screen: administrators see every process and due bot, users their own; it follows
new heartbeats; snapshots for both."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from core.db.engine import Database
from core.db.models.bots import Bot
from core.db.models.engine import EngineProcess
from core.services.actor import Actor, Role
from tests.service_users import add_user
from tests.tui.screen_helpers import NOW, SMALL, WIDE, ScreenApp, no_blink, seed, settle
from tui.screens.engine import EngineScreen


async def _engine(db: Database) -> tuple[Actor, Actor]:
    root = await add_user(
        db, "root@example.com", role=Role.SUPERADMIN, id="root000000000000000000001"
    )
    ann = await add_user(db, "ann@example.com", id="ann0000000000000000000001")
    async with db.sessions.begin() as s:
        s.add(EngineProcess(id="p1", host="trader-01", pid=4242, version="0.1.0", embedded=False,
                            started_at=NOW - timedelta(hours=5), heartbeat_at=NOW - timedelta(seconds=1.4),
                            bots_leased=2, cycles_total=90000, cycles_per_second=4.8,
                            latency_p50_ms=38.2, latency_p99_ms=212.5, errors_last_hour=1,
                            last_error="binance: 503 Service Unavailable"))  # fmt: skip
        s.add(EngineProcess(id="p2", host="trader-02", pid=977, version="0.1.0", embedded=True,
                            started_at=NOW - timedelta(minutes=30), heartbeat_at=NOW - timedelta(seconds=42),
                            cycles_total=100))  # fmt: skip
        for i, (name, owner, last, lease, backoff) in enumerate([
            ("Grid BTC", ann, NOW - timedelta(seconds=25), None, None),
            ("DCA ETH", ann, NOW - timedelta(seconds=12), "p1", None),
            ("Pump screener", root, None, None, NOW + timedelta(seconds=30)),
            ("Signals SOL", root, NOW - timedelta(seconds=13), None, None),
            ("AI BNB", root, NOW, None, None),  # ran in this slot: not due
        ]):  # fmt: skip
            s.add(Bot(id=f"bot{i}", user_id=owner.user_id, name=name, type="grid", status="active",
                      config={}, risk_settings={}, started_at=NOW - timedelta(hours=1),
                      created_at=NOW - timedelta(days=1), last_execution_at=last, lease_owner=lease,
                      lease_until=NOW + timedelta(seconds=10) if lease else None,
                      backoff_until=backoff, error_count=2 if backoff else 0))  # fmt: skip
    return root, ann


def _column(app: ScreenApp, table: str, key: str) -> list[str]:
    t = app.screen.query_one(f"#{table}")
    index = [c.key.value for c in t.ordered_columns].index(key)
    return [str(t.get_row_at(i)[index]) for i in range(t.row_count)]


async def test_admin_and_user_views_follow_heartbeats(db: Database, migrated_url: str) -> None:
    root, ann = await _engine(db)
    app = ScreenApp(migrated_url, root, EngineScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        summary = str(app.screen.query_one("#engine-summary").render())
        assert (
            "1 engine process running" in summary and "4 due (1 running, 1 backing off)" in summary
        )
        assert _column(app, "processes", "heartbeat") == ["1.4s", "42.0s"]
        assert _column(app, "processes", "p99") == ["212.5", "—"]
        assert _column(app, "queue", "bot") == [
            "Grid BTC",
            "Signals SOL",
            "DCA ETH",
            "Pump screener",
        ]
        assert _column(app, "queue", "state") == ["waiting", "waiting", "running", "backoff"]
        assert _column(app, "queue", "lag") == ["20.0s", "10.0s", "10.0s", "0.0s"]
        async with db.sessions.begin() as s:  # p2 beats again, a bot's cycle completes
            await s.execute(update(EngineProcess).where(EngineProcess.id == "p2")
                            .values(heartbeat_at=NOW - timedelta(seconds=0.5)))  # fmt: skip
            await s.execute(update(Bot).where(Bot.id == "bot0").values(last_execution_at=NOW))
        await pilot.press("r")
        await settle(pilot)
        assert _column(app, "processes", "heartbeat") == ["1.4s", "0.5s"]
        assert "Grid BTC" not in _column(app, "queue", "bot")
        assert "2 engine processes running" in str(app.screen.query_one("#engine-summary").render())

    app = ScreenApp(migrated_url, ann, EngineScreen)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        assert _column(app, "queue", "bot") == ["DCA ETH"]
        assert "p99" not in [
            c.key.value for c in app.screen.query_one("#processes").ordered_columns
        ]
        assert _column(app, "processes", "bots") == ["1", "0"]  # only ann's bot on p1


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    no_blink(pilot.app)


def test_engine_admin_snapshot(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    root, _ann = seed(migrated_url, _engine)
    assert snap_compare(
        ScreenApp(migrated_url, root, EngineScreen), terminal_size=WIDE, run_before=_ready
    )


def test_engine_user_snapshot_small(db: Database, migrated_url: str, snap_compare) -> None:  # type: ignore[no-untyped-def]
    _root, ann = seed(migrated_url, _engine)
    assert snap_compare(
        ScreenApp(migrated_url, ann, EngineScreen), terminal_size=SMALL, run_before=_ready
    )
