"""A batch of exits written in one statement: one round trip whatever the batch holds.

Everything ``exit_batch.close_together`` changes goes to PostgreSQL as data-modifying CTEs
over arrays (``unnest``): the positions and the balance rows (``UPDATE … FROM unnest``), the
orphaned resting stop orders (cancelled), the new orders, trades, executions and notifications
(``INSERT … SELECT FROM unnest``, every column of each table always sent, so the statement's
text never changes and asyncpg prepares it once per connection), and a NOTIFY for each event.
PostgreSQL runs every CTE to completion whatever the main query reads, and checks the foreign
keys at the end of the statement (a trade's order is inserted by the same statement).

An insert writes what the unit of work would: a value the object was given, else the column's
Python default (scalars; a new id for the primary key), else its server default (``COALESCE``
with the default's SQL, e.g. ``now()``) or NULL; None counts as "not given" unless the type
stores it as a value (JSON null), as in the ORM. Values go through each column type's own bind
processor, as SQLAlchemy would send them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Enum, Integer, String, Table, TextClause, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapper
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.types import JSON

from core.brokers.types import OrderStatus, OrderType
from core.db.base import Money
from core.db.models.bots import BotBalance, Execution
from core.db.models.notifications import Notification
from core.db.models.trading import Order, Position, Trade
from core.engine.ids import fast_id
from core.events import CHANNEL

ORPHANED = "Cancelled: the position was closed."

POSITION_COLUMNS: dict[str, Any] = {
    "quantity": Money,
    "remaining_quantity": Money,
    "cost_basis": Money,
    "total_invested": Money,
    "realized_pnl": Money,
    "fees_paid": Money,
    "entry_price": Money,
    "current_price": Money,
    "unrealized_pnl": Money,
    "unrealized_pnl_percent": Money,
    "peak_price": Money,
    "lowest_price": Money,
    "status": String,
    "exit_price": Money,
    "closed_at": DateTime(timezone=True),
    "close_reason": String,
    "profit_loss": Money,
    "profit_loss_percent": Money,
    "stop_loss": Money,
    "current_stop_loss_percent": Money,
    "take_profit": Money,
    "take_profit_levels_hit": Integer,
    "last_take_profit_time": DateTime(timezone=True),
    "last_stop_loss_update": DateTime(timezone=True),
    "moon_bag_activated": Boolean,
    "moon_bag_quantity": Money,
}
"""Every column an exit may change (the ledger's and the exit state's)."""

INSERTED = (("o", Order), ("t", Trade), ("e", Execution), ("n", Notification))
"""The tables a batch inserts into, parents first, with their parameters' prefix."""

_PG = postgresql.dialect()
_NEW_ID = object()  # the primary key's default: a new id


def _sql_type(t: Any) -> str:
    return str((t() if isinstance(t, type) else t).compile(dialect=_PG))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class _Column:
    attr: str
    param: str
    array: str
    """The parameter's PostgreSQL array type."""
    value: str
    """The column's value in the INSERT's SELECT list."""
    default: Any
    none_is_value: bool
    type: Any


def _columns(prefix: str, model: type) -> list[_Column]:
    out = []
    mapper: Mapper[Any] = sa_inspect(model)
    for prop in mapper.column_attrs:
        col = prop.columns[0]
        param = f"{prefix}_{col.key}"
        value = f'v."{col.key}"'
        if isinstance(col.type, JSON | Enum):  # sent as text, cast here
            array, value = "TEXT[]", f"CAST({value} AS {_sql_type(col.type)})"
        else:
            array = f"{_sql_type(col.type)}[]"
        if col.server_default is not None:
            arg = getattr(col.server_default, "arg", None)
            made = _literal(arg) if isinstance(arg, str) else str(arg.compile(dialect=_PG))  # type: ignore[union-attr]
            value = f"COALESCE({value}, CAST({made} AS {_sql_type(col.type)}))"
        default: Any = None
        if col.primary_key:
            default = _NEW_ID
        elif col.default is not None and getattr(col.default, "is_scalar", False):
            default = getattr(col.default, "arg", None)
        out.append(
            _Column(
                prop.key,
                param,
                array,
                value,
                default,
                bool(col.type.should_evaluate_none),
                col.type,
            )
        )
    return out


def _insert_sql(prefix: str, model: type, columns: list[_Column]) -> str:
    table = model.__table__  # type: ignore[attr-defined]
    names = ", ".join(f'"{c.param[len(prefix) + 1 :]}"' for c in columns)
    arrays = ", ".join(f"CAST(:{c.param} AS {c.array})" for c in columns)
    values = ", ".join(c.value for c in columns)
    return f"INSERT INTO {table.name} ({names}) SELECT {values} FROM unnest({arrays}) AS v({names})"


def _unnest_update(
    prefix: str,
    table: str,
    columns: dict[str, Any],
    updated_at: str,
    extra: dict[str, Any] | None = None,
) -> str:
    """``UPDATE table … FROM unnest(<one array per column>)``. ``extra`` columns come in the
    arrays but are not set (``updated_at`` may use them)."""
    typed = {"id": String, **columns, **(extra or {})}
    names = list(typed)
    arrays = ", ".join(f"CAST(:{prefix}_{n} AS {_sql_type(t)}[])" for n, t in typed.items())
    sets = ", ".join(f"{n} = v.{n}" for n in columns)
    return (
        f"UPDATE {table} AS t SET {sets}, updated_at = {updated_at} "
        f"FROM unnest({arrays}) AS v({', '.join(names)}) WHERE t.id = v.id"
    )


_ORDERS = Order.__table__
assert isinstance(_ORDERS, Table)
_CANCEL = (
    f"UPDATE {_ORDERS.name} SET status = {_literal(OrderStatus.CANCELLED.value)}, "
    f"error = {_literal(ORPHANED)}, updated_at = CAST(:c_now AS TIMESTAMP WITH TIME ZONE) "
    "WHERE (wallet_id, pair_id) IN (SELECT * FROM unnest(CAST(:c_wallet AS VARCHAR[]), "
    "CAST(:c_pair AS VARCHAR[]))) "
    f"AND status = {_literal(OrderStatus.OPEN.value)} "
    f"AND type IN ({_literal(OrderType.STOP_LOSS.value)}, {_literal(OrderType.TAKE_PROFIT.value)}) "
    "AND is_paper"
)
"""Resting stop and take-profit orders of a position the batch closed."""

_COLUMNS = {prefix: _columns(prefix, model) for prefix, model in INSERTED}
_BALANCES = {"amount": Money, "locked": Money}
_PARTS = [
    # ``updated_at`` keeps the ledger's time where it set one, the database's now otherwise (as
    # the ORM does).
    _unnest_update(
        "p",
        Position.__tablename__,
        POSITION_COLUMNS,
        "coalesce(v.stamped, now())",
        {"stamped": DateTime(timezone=True)},
    ),
    _unnest_update("b", BotBalance.__tablename__, _BALANCES, "now()"),
    _CANCEL,
    *(_insert_sql(prefix, model, _COLUMNS[prefix]) for prefix, model in INSERTED),
]
_WRITE: TextClause = text(
    "WITH "
    + ", ".join(f"w{i} AS ({part})" for i, part in enumerate(_PARTS))
    + " SELECT count(pg_notify(:channel, payload)) "
    "FROM unnest(CAST(:payloads AS TEXT[])) AS payload"
)
"""The batch's one statement."""


def _insert_params(dialect: Dialect, prefix: str, rows: Sequence[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for column in _COLUMNS[prefix]:
        # As SQLAlchemy sends the value (the dialect keeps each type's processor).
        process = column.type._cached_bind_processor(dialect)
        values: list[Any] = []
        for row in rows:
            given = row.__dict__.get(column.attr)
            if given is not None or (column.none_is_value and column.attr in row.__dict__):
                values.append(given if process is None else process(given))
            elif column.default is _NEW_ID:
                setattr(row, column.attr, fast_id())  # (the column default salts from the OS)
                values.append(getattr(row, column.attr))
            else:  # the Python default, else NULL (the server default's COALESCE applies)
                default = column.default
                values.append(default if process is None or default is None else process(default))
        out[column.param] = values
    return out


@dataclass
class Written:
    """What ``write`` is given: everything one batch changed or made."""

    now: datetime
    positions: list[Position] = field(default_factory=list)
    balances: list[BotBalance] = field(default_factory=list)
    closed: list[tuple[str | None, str]] = field(default_factory=list)
    """(wallet, pair) of every position the batch closed: their resting orders are orphans."""
    orders: list[Order] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)


async def write(conn: AsyncConnection, batch: Written) -> int:
    """Write ``batch`` in one statement; returns the statements sent (1)."""
    dialect = conn.dialect
    params: dict[str, Any] = {"channel": CHANNEL, "payloads": batch.payloads}
    params.update(_position_params(batch.positions))
    params["b_id"] = [r.id for r in batch.balances]
    params["b_amount"] = [r.amount for r in batch.balances]
    params["b_locked"] = [r.locked for r in batch.balances]
    params["c_now"] = batch.now
    params["c_wallet"] = [wallet for wallet, _pair in batch.closed]
    params["c_pair"] = [pair for _wallet, pair in batch.closed]
    for prefix, rows in (
        ("o", batch.orders),
        ("t", batch.trades),
        ("e", batch.executions),
        ("n", batch.notifications),
    ):
        params.update(_insert_params(dialect, prefix, rows))
    await conn.execute(_WRITE, params)
    return 1


def _position_params(positions: list[Position]) -> dict[str, list[Any]]:
    params: dict[str, list[Any]] = {f"p_{n}": [] for n in ("id", *POSITION_COLUMNS, "stamped")}
    for p in positions:
        params["p_id"].append(p.id)
        for n in POSITION_COLUMNS:
            params[f"p_{n}"].append(getattr(p, n))
        touched = get_history(p, "updated_at").has_changes()
        params["p_stamped"].append(p.updated_at if touched else None)
    return params
