"""Typed errors the services raise. Each message is fit to show a user as it is."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every expected failure; the TUI and CLI show ``str(exc)`` and carry on."""


class InvalidInput(ServiceError):
    """Bad input: the message names the field and what is wrong. Nothing was changed."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(ServiceError):
    """No such object *for this actor*: another user's row is reported exactly like a missing one."""


class Forbidden(ServiceError):
    """The actor may not do this (role, plan or ownership)."""


class Conflict(ServiceError):
    """The change clashes with existing state (duplicate, wrong status, already used)."""
