"""``blockbotx signals``: the webhook receiver and pollers, and provider management (operators).

The operator acts as the system: without ``--user`` a new provider is a system provider (every
user may follow it); with ``--user EMAIL`` it belongs to that user. Keys are printed once, alone
on standard output; keys given by the operator (an api key, a Telegram bot token) are read from
standard input, never from the command line where ``ps`` and shell history would see them.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

import click
from rich.console import Console
from rich.table import Table

from core.config import get_settings
from core.db.engine import Database
from core.errors import ServiceError
from core.services import signals as service
from core.services.actor import SYSTEM, Actor
from core.signals.config import PROVIDER_TYPES
from core.signals.server import serve as serve_signals
from core.signals.tradingview import MESSAGE_TEMPLATE
from tui.cli.output import emit_json
from tui.cli.runtime import (
    console,
    fail,
    headless_logging,
    log_format_option,
    run_with_db,
    setup_logging,
)


@click.group("signals")
def signals_group() -> None:
    """Trading signals: run the webhook receiver, manage signal providers."""


@signals_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@log_format_option
@click.option(
    "--poll/--no-poll",
    default=True,
    show_default=True,
    help="Also poll api and Telegram providers (one process polling is enough).",
)
def serve(host: str, port: int, log_format: str, poll: bool) -> None:
    """Receive signed signals at POST /signals/<provider id> and TradingView alerts at
    POST /tv/<provider id>/<token> until SIGTERM or Ctrl+C."""
    headless_logging(log_format)

    async def _go(db: Database) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)

        def ready(address: str) -> None:
            console.print(
                f"Receiving signals on {address}/signals/<provider id> (Ctrl+C to stop)",
                highlight=False,
            )

        try:
            await serve_signals(
                db,
                host=host,
                port=port,
                stop=stop,
                poll=poll,
                telegram_api_url=get_settings().telegram_api_url,
                on_ready=ready,
            )
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        console.print("Stopped.", highlight=False)

    run_with_db(_go)


@signals_group.group("provider")
def provider_group() -> None:
    """Signal providers: add, list, rotate a key, disable, enable, remove."""
    setup_logging()


async def _actor(db: Database, email: str | None) -> Actor:
    return SYSTEM if email is None else await service.user_actor(db, SYSTEM, email)


def _read_key(what: str) -> str:
    if sys.stdin.isatty():
        return click.prompt(what, hide_input=True)
    line = sys.stdin.readline()
    if not line.strip():
        fail(f"no {what.lower()} on standard input")
    return line.strip()


def _show(info: service.ProviderInfo) -> None:
    where = info.url or "-"
    if info.type == "webhook":
        where = f"{info.url} (on the host running `blockbotx signals serve`)"
    elif info.type == "tradingview":
        where = f"{info.url}/<token> (on the host running `blockbotx signals serve`)"
    owner = "system" if info.system else info.owner_id
    console.print(
        f"{info.name} [{info.type}] id {info.id}, owner {owner}, "
        f"{'enabled' if info.is_active else 'disabled'}\n  endpoint: {where}",
        highlight=False,
        markup=False,  # names are the user's text, not markup
    )


def _show_key(created: service.ProviderWithKey) -> None:
    if created.key is None:
        return
    if created.info.type == "tradingview":
        console.print(
            "Webhook path with its token (shown once; TradingView posts alerts to "
            "http(s)://<this host>:<port> followed by it). Alert message template:\n"
            f"  {MESSAGE_TEMPLATE}",
            highlight=False,
            markup=False,
        )
        click.echo(created.secret_path)  # alone on stdout, so scripts can capture it
        return
    console.print(
        "Signing key (shown once; store it with the sender, it can't be read back):",
        highlight=False,
    )
    click.echo(created.key)  # alone on stdout, so scripts can capture it


def _print_json(created: service.ProviderWithKey) -> None:
    """One JSON object on stdout; the generated key or token is in it this once."""
    info = created.info
    document: dict[str, object] = {
        "id": info.id,
        "name": info.name,
        "type": info.type,
        "owner_id": info.owner_id,
        "is_active": info.is_active,
        "webhook_path": created.secret_path,
    }
    if info.type == "webhook":
        document["key"] = created.key
    elif info.type == "tradingview":
        document["passphrase"] = created.key
        document["message_template"] = MESSAGE_TEMPLATE
    click.echo(json.dumps(document))


@provider_group.command("add")
@click.argument("name")
@click.option("--type", "provider_type", type=click.Choice(PROVIDER_TYPES), default="webhook")
@click.option("--user", "email", help="The owner's email (default: a system provider).")
@click.option("--config", "config_json", default="{}", help="Settings as a JSON object.")
@click.option("--url", help="The URL to poll (api providers).")
@click.option(
    "--key-stdin",
    is_flag=True,
    help="Read the api key / Telegram bot token from standard input (or a hidden prompt).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the new provider as one JSON object.")
def add(
    name: str,
    provider_type: str,
    email: str | None,
    config_json: str,
    url: str | None,
    key_stdin: bool,
    as_json: bool,
) -> None:
    """Add a provider NAME. A webhook provider's signing key, and a tradingview provider's
    webhook path with its secret token, are generated and printed once."""
    try:
        config = json.loads(config_json)
    except json.JSONDecodeError as exc:
        fail(f"--config is not JSON: {exc}")
    key = _read_key("API key" if provider_type == "api" else "Bot token") if key_stdin else None

    async def _go(db: Database) -> None:
        try:
            actor = await _actor(db, email)
            created = await service.create_provider(
                db,
                actor,
                name=name,
                type=provider_type,
                config=config,
                url=url,
                api_key=key,
                system=email is None,
            )
        except ServiceError as exc:
            fail(str(exc))
        if as_json:
            _print_json(created)
            return
        console.print("Added:", highlight=False)
        _show(created.info)
        _show_key(created)

    run_with_db(_go)


@provider_group.command("list")
@click.option("--user", "email", help="Only this user's providers (and the system ones).")
@click.option("--json", "as_json", is_flag=True, help="Print the providers as JSON.")
def list_(email: str | None, as_json: bool) -> None:
    """List signal providers (all of them unless --user is given)."""

    async def _go(db: Database) -> None:
        try:
            if email is None:
                rows = await service.list_providers(db, SYSTEM, everyone=True)
            else:
                rows = await service.list_providers(db, await _actor(db, email))
        except ServiceError as exc:
            fail(str(exc))
        if as_json:
            emit_json(rows)  # keys are never part of a provider's view
            return
        if not rows:
            console.print("No signal providers.", highlight=False)
            return
        table = Table()
        table.add_column("id", no_wrap=True, min_width=25)  # ids must stay whole to be copied
        for heading in ("name", "type", "owner", "on", "reliability", "endpoint"):
            table.add_column(heading)
        for info in rows:
            table.add_row(
                info.id,
                info.name,
                info.type,
                "system" if info.system else str(info.owner_id),
                "yes" if info.is_active else "no",
                f"{info.reliability:.2f}",
                info.url or "-",
            )
        Console().print(table)  # on stdout, unlike the messages

    run_with_db(_go)


@provider_group.command("rotate-key")
@click.argument("provider_id")
@click.option("--key-stdin", is_flag=True, help="The new api key / bot token from standard input.")
@click.option("--json", "as_json", is_flag=True, help="Print the provider as one JSON object.")
def rotate_key(provider_id: str, key_stdin: bool, as_json: bool) -> None:
    """Replace a provider's key; a webhook provider gets a new generated key, a tradingview
    provider a new token (a new webhook path), printed once."""
    key = _read_key("New key") if key_stdin else None

    async def _go(db: Database) -> None:
        try:
            rotated = await service.rotate_provider_key(db, SYSTEM, provider_id, key, everyone=True)
        except ServiceError as exc:
            fail(str(exc))
        if as_json:
            _print_json(rotated)
            return
        console.print(
            f"New key for {rotated.info.name}; the old one no longer works.",
            highlight=False,
            markup=False,
        )
        _show_key(rotated)

    run_with_db(_go)


def _set_active(provider_id: str, active: bool) -> None:
    async def _go(db: Database) -> None:
        try:
            info = await service.set_provider_active(db, SYSTEM, provider_id, active, everyone=True)
        except ServiceError as exc:
            fail(str(exc))
        _show(info)

    run_with_db(_go)


@provider_group.command("disable")
@click.argument("provider_id")
def disable(provider_id: str) -> None:
    """Stop accepting (and polling) a provider's signals."""
    _set_active(provider_id, False)


@provider_group.command("enable")
@click.argument("provider_id")
def enable(provider_id: str) -> None:
    """Accept a disabled provider's signals again."""
    _set_active(provider_id, True)


@provider_group.command("remove")
@click.argument("provider_id")
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
def remove(provider_id: str, yes: bool) -> None:
    """Delete a provider and all its signals (refused while a bot follows it)."""
    if not yes and not click.confirm(f"Delete provider {provider_id} and all its signals?"):
        fail("not removed")

    async def _go(db: Database) -> None:
        try:
            await service.delete_provider(db, SYSTEM, provider_id, everyone=True)
        except ServiceError as exc:
            fail(str(exc))
        console.print(f"Removed {provider_id}.", highlight=False)

    run_with_db(_go)
