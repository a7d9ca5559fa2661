"""Reference data the app ships with, inserted idempotently at start-up."""

from __future__ import annotations

from core.db.engine import Database
from core.seed.defi import seed_defi_registry
from core.seed.help import seed_help_center


async def seed_reference_data(db: Database) -> None:
    """Insert (or refresh) the help center and the DeFi registries; safe to run every start."""
    async with db.sessions.begin() as session:
        await seed_help_center(session)
        await seed_defi_registry(session)


__all__ = ["seed_defi_registry", "seed_help_center", "seed_reference_data"]
