"""``blockbotx vault``: master key rotation."""

from __future__ import annotations

import click

from core.db.engine import Database
from core.security.rotation import rotate_master_key
from core.security.vault import VaultError
from tui.cli.runtime import console, fail, run_with_db, setup_logging


@click.group("vault")
def vault_group() -> None:
    """The secret vault (exchange keys, TOTP secrets, wallet and provider keys)."""
    setup_logging()


@vault_group.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored secret under a new master key, in one transaction.

    With the key in the keyring or the key file, a new key is generated and stored there. With
    BLOCKBOTX_MASTER_KEY, set the new key there and the old one in
    BLOCKBOTX_PREVIOUS_MASTER_KEY first.
    """

    async def _go(db: Database) -> None:
        try:
            with console.status("Re-encrypting secrets…", spinner="dots"):
                report = await rotate_master_key(db)
        except VaultError as exc:
            fail(str(exc))
        console.print(
            f"Master key is now {report.key_id}; re-encrypted {report.reencrypted_count} of "
            f"{report.total_secrets} secrets.",
            highlight=False,
        )
        for name, count in report.reencrypted.items():
            if count:
                console.print(f"  {name}: {count}", highlight=False)

    run_with_db(_go)
