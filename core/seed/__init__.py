"""Reference data the app ships with, inserted idempotently at start-up."""

from __future__ import annotations

from core.db.engine import Database
from core.seed.defi import seed_defi_registry
from core.seed.help import seed_help_center
from core.services.templates import seed_system_templates


async def seed_reference_data(db: Database) -> None:
    """Insert (or refresh) the help center, the DeFi registries and the system bot templates;
    safe to run every start."""
    async with db.sessions.begin() as session:
        await seed_help_center(session)
        await seed_defi_registry(session)
        await seed_system_templates(session)


__all__ = ["seed_defi_registry", "seed_help_center", "seed_reference_data"]
