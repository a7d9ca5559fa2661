"""``blockbotx fees``: a user's own fee tier per exchange, for paper fills on its prices.

The operator acts as the system, on behalf of the user named by email (as ``api-key`` does).
Fees are in percent, as exchanges publish them: ``--taker 0.075`` is 0.075 %.
"""

from __future__ import annotations

import json

import click

from core.db.engine import Database
from core.errors import ServiceError
from core.services import fee_tiers
from core.services.actor import SYSTEM
from core.services.signals import user_actor
from tui.cli.runtime import console, fail, run_with_db, setup_logging


@click.group("fees")
def fees_group() -> None:
    """A user's fee tier per exchange: the fees their paper fills there pay."""
    setup_logging()


def _line(view: fee_tiers.FeeTierView) -> str:
    maker = "the market's" if view.maker_percent is None else f"{view.maker_percent:f} %"
    return f"{view.exchange}: taker {view.taker_percent:f} %, maker {maker}"


@fees_group.command("set")
@click.argument("exchange")
@click.option("--user", "email", required=True, help="The user's email.")
@click.option("--taker", required=True, help="Taker fee in percent (0.075 is 0.075 %).")
@click.option("--maker", default=None, help="Maker fee in percent (default: the market's).")
def set_(exchange: str, email: str, taker: str, maker: str | None) -> None:
    """Set the user's fees on EXCHANGE (a ccxt id, like binance)."""

    async def _go(db: Database) -> None:
        try:
            actor = await user_actor(db, SYSTEM, email)
            async with db.sessions.begin() as session:
                view = await fee_tiers.set_fee_tier(
                    session, actor, exchange, taker_percent=taker, maker_percent=maker
                )
        except ServiceError as exc:
            fail(str(exc))
        click.echo(f"Fee tier set: {_line(view)}.")

    run_with_db(_go)


@fees_group.command("list")
@click.option("--user", "email", required=True, help="The user's email.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array on stdout.")
def list_(email: str, as_json: bool) -> None:
    """The user's fee tiers (exchanges without one pay the market's fees)."""

    async def _go(db: Database) -> None:
        try:
            actor = await user_actor(db, SYSTEM, email)
            async with db.session() as session:
                views = await fee_tiers.list_fee_tiers(session, actor)
        except ServiceError as exc:
            fail(str(exc))
        if as_json:
            rows = [
                {
                    "exchange": v.exchange,
                    "taker_percent": str(v.taker_percent),
                    "maker_percent": None if v.maker_percent is None else str(v.maker_percent),
                }
                for v in views
            ]
            click.echo(json.dumps(rows, indent=2))
            return
        if not views:
            console.print("No fee tiers: every exchange's own fees apply.", highlight=False)
            return
        for v in views:
            click.echo(_line(v))

    run_with_db(_go)


@fees_group.command("clear")
@click.argument("exchange")
@click.option("--user", "email", required=True, help="The user's email.")
def clear(exchange: str, email: str) -> None:
    """Back to the market's own fees on EXCHANGE."""

    async def _go(db: Database) -> None:
        try:
            actor = await user_actor(db, SYSTEM, email)
            async with db.sessions.begin() as session:
                await fee_tiers.clear_fee_tier(session, actor, exchange)
        except ServiceError as exc:
            fail(str(exc))
        click.echo(f"Fee tier on {exchange} cleared: the market's fees apply.")

    run_with_db(_go)
