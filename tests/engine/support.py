"""Shared set-up for the engine tests: a frozen clock, the simulated market, users and bots."""

from __future__ import annotations

from datetime import UTC, datetime

START = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SEED = 7
