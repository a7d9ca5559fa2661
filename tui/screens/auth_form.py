"""What the sign-in screens share: what went wrong is said under the form, and password fields
are emptied as soon as they have been read."""

from __future__ import annotations

from typing import ClassVar

from textual.widgets import Input, Static

from tui.screens.base import BaseScreen


class AuthFormScreen(BaseScreen[None]):
    """A sign-in form: its own ``compose`` (no dashboard frame), service failures in ``#error``."""

    ERROR_TARGET: ClassVar[str | None] = "#error"

    def show_error(self, message: str) -> None:
        self.query_one("#error", Static).update(message)

    def take(self, selector: str) -> str:
        """The value of an input, which is then cleared (passwords must not linger on screen)."""
        field = self.query_one(selector, Input)
        value = field.value
        if field.password:
            field.value = ""
        return value
