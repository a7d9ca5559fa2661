"""An offline docs page: the endpoints of the OpenAPI document as one self-contained HTML page.

Swagger UI and ReDoc load their scripts from a CDN, which a server on a closed network can't
reach; this page needs nothing but itself. For the interactive viewers, point any OpenAPI tool
at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from html import escape
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code{background:#f2f2f2;padding:0 .25rem}.op{border-top:1px solid #ddd;padding:.5rem 0}
.m{display:inline-block;width:4.5rem;font-weight:bold}.scope{color:#666}
"""


def render(spec: dict[str, Any], openapi_url: str) -> str:
    info = spec.get("info", {})
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8>",
        f"<title>{escape(str(info.get('title', 'API')))}</title><style>{STYLE}</style>",
        f"<h1>{escape(str(info.get('title', 'API')))} {escape(str(info.get('version', '')))}</h1>",
        f"<p>{escape(str(info.get('description', '')))}</p>",
        f'<p>OpenAPI document: <a href="{escape(openapi_url)}"><code>{escape(openapi_url)}'
        "</code></a></p>",
    ]
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            scope = str(operation.get("x-scope", ""))
            parts.append(
                f"<div class=op><span class=m>{method.upper()}</span><code>{escape(path)}</code> "
                f"{escape(str(operation.get('summary', '')))}"
                + (
                    f" <span class=scope>(scope <code>{escape(scope)}</code>)</span>"
                    if scope
                    else ""
                )
                + "</div>"
            )
    parts.append("</html>")
    return "\n".join(parts)
