"""``blockbotx exchanges list``: every exchange BlockbotX can trade on, as ccxt describes it."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from core.services.exchanges import available_exchanges


@click.group("exchanges")
def exchanges_group() -> None:
    """The exchanges BlockbotX trades on (every qualifying ccxt spot exchange)."""


@exchanges_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON list of objects on stdout.")
@click.option("--search", default="", help="Only exchanges whose id or name contains this.")
def list_exchanges(as_json: bool, search: str) -> None:
    """Each exchange with its testnet, websocket streams, timeframes and the keys it needs."""
    specs = available_exchanges(search)
    if as_json:
        click.echo(json.dumps([s.as_dict() for s in specs], indent=2))
        return
    title = f"{len(specs)} exchange{'' if len(specs) == 1 else 's'}"
    table = Table(title=title, title_justify="left")
    for header in ("Id", "Name", "Testnet", "Websocket", "Timeframes", "Keys"):
        table.add_column(header)
    for s in specs:
        keys = ", ".join(s.credential_labels()) + ("" if s.connectable else " (paper only)")
        table.add_row(
            s.id,
            s.name,
            "yes" if s.sandbox else "no",
            "yes" if s.websocket else "polling",
            " ".join(s.timeframes),
            keys,
        )
    Console().print(table)  # stdout: the list is the output
