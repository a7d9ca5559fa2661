"""Stripe is an optional extra (``blockbotx[billing]``): without it the app runs, and paying says
exactly what to install; the package metadata declares the licence and the extra."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.billing.configured import STRIPE_MISSING, configured_billing
from core.config import Settings
from core.db.engine import Database
from core.errors import Conflict
from core.services import plans
from tests.service_users import add_user

REPO = Path(__file__).resolve().parents[2]


def _with_key() -> Settings:
    return Settings(stripe_api_key=SecretStr("sk_test_extra"), stripe_api_base="http://127.0.0.1:9")


def _without_stripe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "stripe", None)  # import stripe -> ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "core.billing.gateway", raising=False)


async def test_paying_without_the_stripe_library_says_what_to_install(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_stripe(monkeypatch)
    billing = configured_billing(settings=_with_key())
    assert billing.gateway is None and billing.unavailable == STRIPE_MISSING
    assert "blockbotx[billing]" in STRIPE_MISSING
    bob = await add_user(db, "bob@example.com")
    with pytest.raises(Conflict, match=r"install blockbotx\[billing\]"):
        await plans.choose_plan(db, bob, "pro", "monthly", billing=billing)
    async with db.session() as s:  # nothing changed: still on Free
        assert (await plans.current_plan(s, bob.user_id)).name.value == "free"


async def test_with_the_library_the_configured_key_makes_a_gateway() -> None:
    billing = configured_billing(settings=_with_key())
    assert billing.gateway is not None and billing.unavailable is None
    await billing.gateway.close()
    assert configured_billing(settings=Settings(stripe_api_key=None)).gateway is None


def test_package_metadata_declares_the_licence_and_the_billing_extra() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    assert "License :: OSI Approved :: Apache Software License" in project["classifiers"]
    assert not any(d.startswith("stripe") for d in project["dependencies"])
    extras = project["optional-dependencies"]
    assert any(d.startswith("stripe") for d in extras["billing"])
    assert any(d.startswith("stripe") for d in extras["dev"])
    licence = (REPO / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
