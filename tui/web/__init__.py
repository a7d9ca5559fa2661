"""``blockbotx serve``'s web side: its page (the terminal font served locally, keys to the
dashboard from the first frame) and its icon, on textual-serve's server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import textual_serve
from aiohttp import web
from textual_serve.server import Server

HERE = Path(__file__).parent
FAVICON = (HERE / "favicon.svg").read_bytes()


class DashboardServer(Server):
    """textual-serve with our page template and a favicon; its own scripts, styles and fonts."""

    def __init__(self, command: str, **kwargs: Any) -> None:
        super().__init__(
            command,
            statics_path=Path(textual_serve.__file__).parent / "static",
            templates_path=HERE,
            **kwargs,
        )

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_get("/favicon.ico", self._favicon)
        return app

    async def _favicon(self, request: web.Request) -> web.Response:
        return web.Response(
            body=FAVICON,
            content_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )
