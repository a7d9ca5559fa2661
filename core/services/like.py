"""``ILIKE`` patterns from what a user typed: their ``%``, ``_`` and ``\\`` match themselves."""

from __future__ import annotations


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def containing(text: str) -> str:
    """A pattern matching values that contain ``text`` (use with ``escape="\\\\"``)."""
    return f"%{escape_like(text)}%"
