"""``blockbotx user``: create accounts and issue password reset tokens (operator commands).

The operator running these on the server acts as the system (superadmin). Passwords are read
from a hidden prompt, or from standard input when it is not a terminal (one line), never from
the command line where ``ps`` and shell history would see them.
"""

from __future__ import annotations

import sys

import click

from core.db.engine import Database
from core.errors import ServiceError
from core.services import accounts
from core.services.actor import SYSTEM, Role
from tui.cli.runtime import console, fail, run_with_db, setup_logging


@click.group("user")
def user_group() -> None:
    """Accounts: create one, or issue a password reset token."""
    setup_logging()


def _read_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            fail("no password on standard input")
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")


@user_group.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.USER.value,
    show_default=True,
    help="The account's role.",
)
def create(email: str, role: str) -> None:
    """Create an account for EMAIL (password from a prompt, or one line on stdin)."""
    password = _read_password()

    async def _go(db: Database) -> None:
        try:
            account = await accounts.create_account(
                db, SYSTEM, email=email, password=password, role=role
            )
        except ServiceError as exc:
            fail(str(exc))
        console.print(f"Created {account.email} ({account.role.value}).", highlight=False)

    run_with_db(_go)


@user_group.command("reset-password")
@click.argument("email")
@click.option(
    "--print", "print_token", is_flag=True,
    help="Print the token here even when email is configured.",
)  # fmt: skip
def reset_password(email: str, print_token: bool) -> None:
    """Issue a one-time password reset token for EMAIL (valid 30 minutes).

    With email configured the token is mailed to the user and not shown here; otherwise (or
    with --print) it is printed once, here, to hand over. The user signs in with it as the
    password and then chooses a new one. Only its hash is stored; a new token voids the old one.
    """
    from core.config import get_settings
    from core.notifications.transports import DeliveryFailed
    from core.services.reset_mail import email_reset_token

    settings = get_settings()

    async def _go(db: Database) -> None:
        try:
            issued = await accounts.issue_reset_token(db, SYSTEM, email)
        except ServiceError as exc:
            fail(str(exc))
        if settings.smtp_host and not print_token:
            try:
                await email_reset_token(settings, issued)
            except DeliveryFailed as exc:
                fail(
                    f"the token was issued but could not be emailed ({exc}); run again with --print"
                )
            console.print(
                f"A one-time reset token was emailed to {issued.email} (valid until "
                f"{issued.expires_at:%Y-%m-%d %H:%M} UTC).",
                highlight=False,
            )
            return
        console.print(
            f"One-time reset token for {issued.email} (valid until "
            f"{issued.expires_at:%Y-%m-%d %H:%M} UTC). Give it to the user; it is not shown again:",
            highlight=False,
        )
        click.echo(issued.token)  # alone on stdout, so scripts can capture it

    run_with_db(_go)
