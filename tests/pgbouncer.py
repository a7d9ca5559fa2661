"""Debian's ``pgbouncer`` in transaction pooling mode, in front of the test PostgreSQL.

``.ci/run`` installs the binary; where it is missing the tests that need it are skipped with a
message saying exactly that.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url


def binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Bouncer:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path

    def url_for(self, server_url: str) -> str:
        """The same database as ``server_url``, reached through pgbouncer over TCP."""
        parsed = make_url(server_url)
        return parsed.set(host="127.0.0.1", port=self.port, query={}).render_as_string(
            hide_password=False
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start(server_url: str) -> Bouncer:
    """Start pgbouncer forwarding every database name to the server of ``server_url``."""
    exe = binary()
    if exe is None:
        raise FileNotFoundError("pgbouncer is not installed (apt-get install pgbouncer)")
    parsed = make_url(server_url)
    socket_dir = parsed.query.get("host")
    target = f"host={socket_dir or parsed.host} port={parsed.port or 5432}"
    user = parsed.username or "postgres"
    workdir = Path(tempfile.mkdtemp(prefix="bbx-pgbouncer-"))
    port = _free_port()
    auth = workdir / "users.txt"
    auth.write_text(f'"{user}" "{parsed.password or ""}"\n')
    ini = workdir / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"* = {target} user={user}"
        + (f" password={parsed.password}" if parsed.password else "")
        + "\n\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = {'trust' if not parsed.password else 'plain'}\nauth_file = {auth}\n"
        f"pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 20\nadmin_users = {user}\n"
        "ignore_startup_parameters = extra_float_digits,application_name,search_path\n"
        f"logfile = {workdir / 'pgbouncer.log'}\npidfile = {workdir / 'pgbouncer.pid'}\n"
    )
    cmd = [exe, str(ini)]
    if os.geteuid() == 0:
        # pgbouncer refuses to run as root; run as whoever owns the server's socket directory.
        owner = pwd.getpwuid(os.stat(socket_dir).st_uid).pw_name if socket_dir else "postgres"
        shutil.chown(workdir, owner)
        for f in (auth, ini):
            shutil.chown(f, owner)
        cmd = [exe, "-u", owner, str(ini)]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"pgbouncer exited: {err.strip()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return Bouncer(process, port, workdir)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("pgbouncer did not start listening within 10 s")
