"""A QR code drawn in the terminal with half-block characters (two modules per cell).

Dark modules on a light background whatever the theme, with the quiet zone the standard asks
for, so phone cameras read it on dark and light terminals alike.
"""

from __future__ import annotations

import segno
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

_STYLE = Style(color="black", bgcolor="white")
_CHARS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def qr_lines(data: str, border: int = 2) -> list[str]:
    """The QR code of ``data`` as lines of half-block characters (True = dark module)."""
    qr = segno.make(data, error="m")
    rows = [[bool(v) for v in row] for row in qr.matrix_iter(scale=1, border=border)]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    return [
        "".join(_CHARS[(top, bottom)] for top, bottom in zip(rows[i], rows[i + 1], strict=True))
        for i in range(0, len(rows), 2)
    ]


class QRCode(Widget):
    DEFAULT_CSS = """
    QRCode { width: auto; height: auto; }
    """

    def __init__(self, data: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines = qr_lines(data)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return len(self._lines[0])

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        if y >= len(self._lines):
            return Strip.blank(self.size.width)
        return Strip([Segment(self._lines[y], _STYLE)])
