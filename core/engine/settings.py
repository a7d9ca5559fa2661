"""Engine settings: ``BLOCKBOTX_ENGINE_*`` environment variables over these defaults."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class EngineSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BLOCKBOTX_ENGINE_", extra="ignore")

    cycle_seconds: float = Field(default=10.0, ge=0.01, le=3600)
    """Every active bot runs one cycle per slot of this length (slots are aligned to the epoch,
    so every process agrees on them). Exits don't wait for it: they follow every price update."""
    catch_up_slots: int = Field(default=30, ge=0, le=100_000)
    """A bot that fell behind (a busy or interrupted engine) runs its missed slots, each once, up
    to this many; further behind (a long outage) it resumes at the current slot."""
    lease_seconds: float = Field(default=15.0, ge=1, le=3600)
    """How long a claimed bot stays with its process; a killed process's bots are free again
    after this at the latest."""
    batch_size: int = Field(default=500, ge=1, le=10_000)
    """Bots claimed per statement."""
    lanes: int = Field(default=2, ge=1, le=16)
    """Batches in flight at once in one process: while one waits for the database, another is
    decided (claims never overlap: a leased bot is never claimed again)."""
    heartbeat_seconds: float = Field(default=2.0, gt=0, le=60)
    alive_seconds: float = Field(default=10.0, gt=0, le=600)
    """A process whose heartbeat is older than this is considered dead."""
    max_failures: int = Field(default=3, ge=1, le=100)
    """Consecutive failed cycles that put a bot into the error state."""
    backoff_seconds: float = Field(default=5.0, gt=0, le=3600)
    backoff_cap_seconds: float = Field(default=300.0, gt=0, le=86400)
    """An exchange outage backs the bots on it off: base × 2^(failures − 1), capped."""
    price_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    stream_prices: bool = True
    """Stream exchange prices over websockets (ccxt.pro) where offered; polling covers the rest
    and any stream that drops."""
    stale_price_seconds: float = Field(default=30.0, gt=0, le=3600)
    """A symbol with no price this recent is stale: its bots wait and the engine screen says so."""
    batch_exits: bool = True
    """Close the paper positions one tick breaches together, in one transaction of a few
    set-based statements (``core.engine.exit_batch``); off: each in its own transaction."""
    exits_only: bool = False
    """The process only closes positions (``blockbotx engine --exits-only``): it leases no bots,
    runs no cycles, housekeeping or deliveries, and follows the prices of every watched symbol
    so a breached stop is closed without waiting for a cycle to let go of the event loop and the
    GIL. Cycling engines keep watching too; the position's advisory lock decides who closes."""
    nice: int = Field(default=0, ge=-20, le=19)
    """The process's CPU priority (Unix nice, as systemd's ``Nice=``), taken at start. Cycling
    engines beside an exits process do well at 5: a breached stop then doesn't queue behind a
    cycle for the CPU. Below 0 needs the privilege to raise priority."""
    watch_refresh_seconds: float = Field(default=2.0, gt=0, le=600)
    """How often the exit watcher reads what changed in the open positions (opened, closed or
    moved by other processes, their bots stopped or their settings changed)."""
    watch_full_reload_seconds: float = Field(default=300.0, gt=0, le=86_400)
    """How often it reads every open position afresh instead (a reload only reads the changed
    ones; this is the safety net)."""
    housekeeping_seconds: float = Field(default=30.0, gt=0, le=3600)
    snapshot_minutes: float = Field(default=60.0, gt=0, le=10_080)
    """Performance snapshot interval per bot."""
    hold_retention_hours: float = Field(default=6.0, gt=0, le=24 * 365)
    """HOLD executions older than this are folded into ``execution_daily`` and deleted."""
    retention_batch: int = Field(default=20_000, ge=100, le=1_000_000)
    deliver_notifications: bool = True
    """Run the notification delivery loop in the engine process."""
    strategy_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    """An installed strategy that takes longer to decide fails its bot's cycle."""
    shutdown_seconds: float = Field(default=4.0, gt=0, le=60)
    """A stop waits at most this long for the cycle in flight."""
    reconcile_after_seconds: float = Field(default=30.0, ge=0, le=86400)
    """Live orders pending or open, untouched this long, are checked with their exchange by
    housekeeping (younger ones may still be on their way)."""
    reconcile_misses: int = Field(default=3, ge=1, le=100)
    """Checks in a row on which the exchange doesn't know a pending order before it is marked
    failed."""
