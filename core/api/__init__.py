"""The REST API (``blockbotx api serve``): FastAPI under ``/api/v1``, authenticated by the
users' scoped API keys. Every route maps HTTP to one service call made as the key's owner; no
business logic lives here."""

from core.api.app import create_app

__all__ = ["create_app"]
