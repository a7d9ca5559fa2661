"""Notifying users: ``notify`` stores rows (the outbox); delivery to channels happens after."""

from core.notifications.create import notify

__all__ = ["notify"]
