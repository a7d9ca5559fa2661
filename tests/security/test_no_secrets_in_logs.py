"""Run the account flows with logging at DEBUG (SQL statements and parameters included) and
check that no secret — password, TOTP secret, backup code, API key, refresh or reset token,
exchange key — reaches the log file."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from core import logs
from core.clock import FrozenClock
from core.db.engine import Database
from core.db.models.trading import ExchangeConnection
from core.security import totp
from core.security.device import Device
from core.services import accounts, api_keys, twofactor
from core.services.actor import SYSTEM
from core.services.authconfig import AuthConfig
from tests.security.conftest import OTHER_PASSWORD, PASSWORD, sign_in, signup

WRONG = "wrong-but-still-secret-guess"
EXCHANGE_SECRET = "exchange-secret-9f8e7d6c5b4a"


async def test_flows_leave_no_secret_in_the_debug_log(
    db: Database, auth: AuthConfig, clock: FrozenClock, device: Device, tmp_path: Path
) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    path = logs.setup("DEBUG", path=tmp_path / "debug.log")
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements and parameters
    secrets: list[str] = [PASSWORD, OTHER_PASSWORD, WRONG, EXCHANGE_SECRET]
    try:
        await signup(db, auth, device, "log@example.com")
        with contextlib.suppress(accounts.AuthenticationFailed):
            await accounts.login(
                db, email="log@example.com", password=WRONG, device=device, auth=auth
            )
        me = await sign_in(db, auth, device, "log@example.com")
        secrets.append(me.refresh_token)
        enrolment = await twofactor.begin_enrolment(db, me.actor, auth)
        secrets.append(enrolment.secret)
        backup = await twofactor.confirm_enrolment(
            db, me.actor, totp.code_at(enrolment.secret, totp.time_step(clock.now())), auth
        )
        secrets.extend(backup.codes)
        clock.advance(seconds=30)
        step = await accounts.login(
            db, email="log@example.com", password=PASSWORD, device=device, auth=auth
        )
        done = await accounts.verify_two_factor(
            db, step.challenge, backup.codes[0], device=device, auth=auth
        )
        secrets.append(done.session.refresh_token)
        refreshed = await accounts.refresh(db, done.session.refresh_token, device=device, auth=auth)
        secrets.append(refreshed.refresh_token)
        key = await api_keys.create_api_key(db, me.actor, "logs", ["read"], auth=auth)
        secrets.append(key.key)
        await api_keys.authenticate_api_key(db, key.key, auth=auth)
        vault = auth.get_vault()
        async with db.session() as s, s.begin():
            s.add(
                ExchangeConnection(
                    user_id=me.actor.user_id,
                    exchange="binance",
                    encrypted_api_key=vault.encrypt(
                        EXCHANGE_SECRET,
                        table="exchange_connections",
                        owner_id=me.actor.user_id,
                        field="encrypted_api_key",
                    ),
                    encrypted_secret_key=vault.encrypt(
                        EXCHANGE_SECRET,
                        table="exchange_connections",
                        owner_id=me.actor.user_id,
                        field="encrypted_secret_key",
                    ),
                )
            )
        await accounts.change_password(db, refreshed.actor, PASSWORD, OTHER_PASSWORD, auth)
        reset = await accounts.issue_reset_token(db, SYSTEM, "log@example.com", auth)
        secrets.append(reset.token)
        for handler in logging.getLogger().handlers:
            handler.flush()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    content = path.read_text()
    assert (
        "INSERT INTO users" in content and "UPDATE two_factor_auth" in content
    )  # really logged SQL
    leaked = [s for s in secrets if s in content or s.lower() in content]
    assert leaked == []
    for code in backup.codes:
        assert code.replace("-", "") not in content
