"""Remembering a signed-in session for the local OS user, so the TUI skips the login screen.

The refresh token is kept in the system keyring when one is usable, else in a file of mode
0600 (in a 0700 directory) under the user config dir. One entry per OS user and database, so
two installations on one machine don't mix. The token rotates on every start; ``forget``
(on sign-out, or when the token is refused) removes it.

A served dashboard (``blockbotx serve``) uses ``NotRemembered``: every browser's app runs as
the server's OS user, so a token kept for that user would sign any browser in as whoever last
ticked "Remember me".
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import logging
import os
from pathlib import Path

from core import paths
from core.security.vault import KEYRING_SERVICE, _keyring_backend_usable

log = logging.getLogger(__name__)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class RememberedSession:
    enabled = True
    """Whether sign-in offers "Remember me"."""

    def __init__(
        self, database_url: str, *, directory: Path | None = None, use_keyring: bool | None = None
    ) -> None:
        from sqlalchemy.engine import make_url  # not before the sign-in screen's first frame

        url = make_url(database_url).set(password=None).render_as_string(hide_password=True)
        self._scope = hashlib.sha256(url.encode()).hexdigest()[:16]
        self._user = _os_user()
        self._directory = directory
        self._keyring = use_keyring  # None: asked on first use (finding a backend takes time)

    @property
    def _use_keyring(self) -> bool:
        if self._keyring is None:
            self._keyring = _keyring_backend_usable()
        return self._keyring

    @property
    def _keyring_name(self) -> str:
        return f"session:{self._user}:{self._scope}"

    @property
    def path(self) -> Path:
        directory = self._directory or paths.config_dir() / "sessions"
        return (
            directory / f"{self._scope}-{hashlib.sha256(self._user.encode()).hexdigest()[:8]}.token"
        )

    def load(self) -> str | None:
        if self._use_keyring:
            import keyring

            with contextlib.suppress(Exception):
                return keyring.get_password(KEYRING_SERVICE, self._keyring_name)
            return None
        try:
            return self.path.read_text().strip() or None
        except OSError:
            return None

    def save(self, token: str) -> None:
        if self._use_keyring:
            import keyring

            keyring.set_password(KEYRING_SERVICE, self._keyring_name, token)
            return
        path = self.path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(token)
        os.replace(tmp, path)

    def forget(self) -> None:
        if self._use_keyring:
            import keyring

            with contextlib.suppress(Exception):
                keyring.delete_password(KEYRING_SERVICE, self._keyring_name)
            return
        self.path.unlink(missing_ok=True)


class NotRemembered:
    """Sessions that are never remembered (serve mode): nothing is read, written or removed."""

    enabled = False

    def load(self) -> str | None:
        return None

    def save(self, token: str) -> None:
        """Nothing is kept: the next start (a browser tab) signs in again."""

    def forget(self) -> None:
        """Nothing was kept; the OS user's own remembered session stays untouched."""


SessionMemory = RememberedSession | NotRemembered
