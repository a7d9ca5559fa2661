"""A local HTTP server standing in for the parts of Stripe's API that BlockbotX uses.

It speaks what the official ``stripe`` library sends (form-encoded bodies, bearer key,
``Idempotency-Key``) and answers in Stripe's shapes: customers, payment methods, PaymentIntents
confirmed at once, refunds, billing portal sessions. A card whose id is in ``declining`` is
declined with Stripe's card error; a repeated idempotency key returns the first answer.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "sk_test_blockbotx"
BODY = web.RequestKey("body", dict)
DECLINED_CARD = "pm_card_chargeDeclined"


def _unflatten(form: Any) -> dict[str, Any]:
    """``metadata[user_id]=x`` -> ``{"metadata": {"user_id": "x"}}``."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        if "[" in key:
            outer, inner = key.split("[", 1)
            out.setdefault(outer, {})[inner.rstrip("]")] = value
        else:
            out[key] = value
    return out


@dataclass
class FakeStripe:
    url: str = ""
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    cards: dict[str, list[str]] = field(default_factory=dict)  # customer -> payment methods
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    declining: set[str] = field(default_factory=lambda: {DECLINED_CARD})
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    _idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def attach_card(self, customer_id: str, card: str = "pm_card_visa") -> None:
        self.cards.setdefault(customer_id, []).append(card)

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def charges(self) -> list[dict[str, Any]]:
        return [i for i in self.intents.values() if i["status"] == "succeeded"]

    # -- handlers -----------------------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self._error(401, "invalid_request_error", "Invalid API Key provided.")
        body = _unflatten(await request.post()) if request.method == "POST" else {}
        self.requests.append((request.method, request.path, body))
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key and (request.path, key) in self._idempotent:
            status, payload = self._idempotent[(request.path, key)]  # type: ignore[index]
            return web.json_response(payload, status=status)
        request[BODY] = body
        response = await handler(request)
        if request.method == "POST" and key:
            self._idempotent[(request.path, key)] = (response.status, json.loads(response.body))  # type: ignore[index,arg-type]
        return response

    @staticmethod
    def _error(status: int, type_: str, message: str, **extra: Any) -> web.Response:
        return web.json_response(
            {"error": {"type": type_, "message": message, **extra}}, status=status
        )

    async def create_customer(self, request: web.Request) -> web.Response:
        body = request[BODY]
        customer = {
            "id": self._id("cus"),
            "object": "customer",
            "email": body.get("email"),
            "metadata": body.get("metadata", {}),
            "invoice_settings": {"default_payment_method": None},
        }
        self.customers[customer["id"]] = customer
        return web.json_response(customer)

    async def get_customer(self, request: web.Request) -> web.Response:
        customer = self.customers.get(request.match_info["id"])
        if customer is None:
            return self._error(
                404, "invalid_request_error", "No such customer", code="resource_missing"
            )
        return web.json_response(customer)

    async def list_payment_methods(self, request: web.Request) -> web.Response:
        customer = request.query.get("customer", "")
        data = [
            {"id": pm, "object": "payment_method", "type": "card", "customer": customer}
            for pm in self.cards.get(customer, [])
        ]
        return web.json_response(
            {"object": "list", "data": data, "has_more": False, "url": "/v1/payment_methods"}
        )

    async def create_payment_intent(self, request: web.Request) -> web.Response:
        body = request[BODY]
        customer, card = body.get("customer"), body.get("payment_method")
        if customer not in self.customers or card not in self.cards.get(customer, []):
            return self._error(
                400, "invalid_request_error", "No such PaymentMethod", param="payment_method"
            )
        intent = {
            "id": self._id("pi"),
            "object": "payment_intent",
            "amount": int(body["amount"]),
            "currency": body["currency"],
            "customer": customer,
            "payment_method": card,
            "description": body.get("description"),
            "metadata": body.get("metadata", {}),
            "status": "succeeded",
        }
        if card in self.declining:
            intent["status"] = "requires_payment_method"
            self.intents[intent["id"]] = intent
            return self._error(
                402, "card_error", "Your card was declined.",
                code="card_declined", decline_code="generic_decline",
                payment_intent=intent,
            )  # fmt: skip
        self.intents[intent["id"]] = intent
        return web.json_response(intent)

    async def create_refund(self, request: web.Request) -> web.Response:
        intent = self.intents.get(request[BODY].get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return self._error(400, "invalid_request_error", "No such payment_intent")
        refund = {"id": self._id("re"), "object": "refund", "payment_intent": intent["id"],
                  "amount": intent["amount"], "status": "succeeded"}  # fmt: skip
        self.refunds[refund["id"]] = refund
        return web.json_response(refund)

    async def create_portal_session(self, request: web.Request) -> web.Response:
        customer = request[BODY].get("customer")
        sid = self._id("bps")
        return web.json_response(
            {
                "id": sid,
                "object": "billing_portal.session",
                "customer": customer,
                "url": f"{self.url}/portal/{sid}",
            }
        )

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_post("/v1/customers", self.create_customer)
        app.router.add_get("/v1/customers/{id}", self.get_customer)
        app.router.add_get("/v1/payment_methods", self.list_payment_methods)
        app.router.add_post("/v1/payment_intents", self.create_payment_intent)
        app.router.add_post("/v1/refunds", self.create_refund)
        app.router.add_post("/v1/billing_portal/sessions", self.create_portal_session)
        return app


@asynccontextmanager
async def running_fake_stripe() -> AsyncIterator[FakeStripe]:
    fake = FakeStripe()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
