"""What the marketplace, plan and referral screens share: the billing context and formats."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from textual.app import App
from textual.widgets import DataTable

from core.billing.payments import Billing
from tui.screens.base import app_clock
from tui.widgets.table import Column, fit_columns


@asynccontextmanager
async def billing_for(app: App[Any]) -> AsyncIterator[Billing]:
    """``app.billing`` when the app has one (tests: a Stripe stand-in); otherwise Stripe as
    configured (or no gateway), opened for this one action and closed after it."""
    given = getattr(app, "billing", None)
    if given is not None:
        yield given
        return
    from core.billing.configured import configured_billing  # stripe: only when paying

    billing = configured_billing(app_clock(app))
    try:
        yield billing
    finally:
        if billing.gateway is not None:
            await billing.gateway.close()


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def usd(amount: Decimal | None) -> str:
    """A price: "free" for nothing."""
    if amount is None:
        return "—"
    return "free" if amount == 0 else money(amount)


def count(limit: int | None) -> str:
    return "unlimited" if limit is None else f"{limit:,}"


def show_rows(
    table: DataTable[Any], columns: Sequence[Column], rows: Sequence[tuple[str, Mapping[str, Any]]]
) -> None:
    """Show ``rows`` (key, cells by column key) in the columns that fit the table's width,
    keeping the cursor on the same key. These lists are short (four plans, a page of
    strategies, a user's referrals), so they are simply refilled, on load and on resize."""
    current = None
    if table.row_count:
        current = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    fitted = fit_columns(columns, (table.size.width or table.app.size.width) - 2)
    table.clear(columns=True)
    for col, width in fitted:
        table.add_column(col.label, width=width, key=col.key)
    for key, cells in rows:
        table.add_row(*(cells.get(col.key, "") for col, _ in fitted), key=key)
    keys = [key for key, _ in rows]
    if current in keys:
        table.move_cursor(row=keys.index(current))
