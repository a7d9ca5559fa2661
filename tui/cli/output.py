"""Where a command's results go: its result (a table, credentials, ``--json``) on stdout, so
``blockbotx doctor > report.txt`` and ``blockbotx db current --json | jq`` work; progress,
messages and errors on stderr (``runtime.console``)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum

import click
from rich.console import Console

out = Console(highlight=False)  # stdout


def plain(value: object) -> object:
    """``value`` as JSON-ready data: dataclasses as objects, money as decimal strings (never
    floats), times in ISO 8601, durations in seconds."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def emit_json(data: object) -> None:
    """The result as one JSON document on stdout."""
    click.echo(json.dumps(plain(data), indent=2, ensure_ascii=False))
