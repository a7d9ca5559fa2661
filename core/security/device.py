"""Where a login comes from: the client IP (over SSH) and a description of the terminal.

Over SSH, ``SSH_CLIENT`` ("ip port port") or ``SSH_CONNECTION`` ("ip port ip port") name the
client; otherwise the login is local. A *device* is the terminal program, the host, the OS user
and, over SSH, the client address: the same person on a new laptop or from a new network is a
new device and gets a ``LOGIN_NEW_DEVICE`` notification. Its fingerprint is a SHA-256 of that
description (the seed's "SHA-256 of the user agent").
"""

from __future__ import annotations

import getpass
import hashlib
import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass

LOCAL = "local"
MAX_PART = 80


@dataclass(frozen=True, slots=True)
class Device:
    ip_address: str
    user_agent: str
    name: str

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.user_agent.encode("utf-8", "surrogatepass")).hexdigest()


def client_ip(environ: Mapping[str, str] | None = None) -> str:
    """The SSH client's address when there is one, else ``local``; never an unparsed string."""
    env = os.environ if environ is None else environ
    for name in ("SSH_CLIENT", "SSH_CONNECTION"):
        value = (env.get(name) or "").split()
        if value:
            try:
                return str(ipaddress.ip_address(value[0]))
            except ValueError:
                continue
    return LOCAL


def _clean(text: str) -> str:
    printable = "".join(ch for ch in text if ch.isprintable())
    return printable[:MAX_PART] or "unknown"


def current_device(environ: Mapping[str, str] | None = None) -> Device:
    env = os.environ if environ is None else environ
    ip = client_ip(env)
    terminal = _clean(env.get("TERM_PROGRAM") or env.get("TERM") or "terminal")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = env.get("USER") or "unknown"
    host = socket.gethostname()
    return describe(ip=ip, terminal=terminal, host=host, os_user=user)


def describe(*, ip: str, terminal: str, host: str, os_user: str) -> Device:
    terminal, host, os_user = _clean(terminal), _clean(host), _clean(os_user)
    where = f"SSH from {ip}" if ip != LOCAL else "local"
    name = f"{terminal} on {host} as {os_user} ({where})"
    return Device(ip_address=ip, user_agent=f"blockbotx-tui; {name}", name=name)
