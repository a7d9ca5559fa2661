"""Fixtures for the account and security tests: a frozen clock, a cheap hasher, a fixed vault."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.clock import FrozenClock
from core.db.engine import Database
from core.security import vault as vault_module
from core.security.device import Device, describe
from core.security.passwords import Hasher
from core.security.vault import Vault
from core.services import accounts
from core.services.actor import Actor
from core.services.authconfig import AuthConfig
from core.services.sessions import AuthSession

PASSWORD = "amber-falcon-rides-north"
OTHER_PASSWORD = "quiet-harbor-lanterns-9"
FAST_HASHER = Hasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def auth(clock: FrozenClock) -> AuthConfig:
    return AuthConfig(clock=clock, hasher=FAST_HASHER, vault=Vault(b"\x07" * 32, "test"))


@pytest.fixture
def key_file_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The master key in a key file under ``tmp_path`` (as without a keyring)."""
    monkeypatch.delenv("BLOCKBOTX_MASTER_KEY", raising=False)
    monkeypatch.setenv("BLOCKBOTX_CONFIG_DIR", str(tmp_path))
    vault_module.get_vault.cache_clear()
    yield tmp_path
    vault_module.get_vault.cache_clear()


@pytest.fixture
def device() -> Device:
    return describe(ip="203.0.113.5", terminal="xterm-256color", host="desk", os_user="alice")


def other_device(ip: str = "198.51.100.7") -> Device:
    return describe(ip=ip, terminal="tmux", host="laptop", os_user="bob")


async def signup(
    db: Database, auth: AuthConfig, device: Device, email: str, password: str = PASSWORD
) -> accounts.Registered:
    return await accounts.register(db, email=email, password=password, device=device, auth=auth)


async def sign_in(
    db: Database, auth: AuthConfig, device: Device, email: str, password: str = PASSWORD
) -> AuthSession:
    step = await accounts.login(db, email=email, password=password, device=device, auth=auth)
    assert isinstance(step, accounts.SignedIn), step
    return step.session


async def signed_up_and_in(
    db: Database, auth: AuthConfig, device: Device, email: str
) -> AuthSession:
    await signup(db, auth, device, email)
    return await sign_in(db, auth, device, email)


def as_actor(session: AuthSession) -> Actor:
    return session.actor


__all__ = ["FAST_HASHER", "OTHER_PASSWORD", "PASSWORD", "other_device", "replace"]
