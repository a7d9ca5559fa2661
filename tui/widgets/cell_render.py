"""One-line table cells drawn straight into segments, as Rich would draw them.

Textual's DataTable draws every cell through Rich (``Styled(Padding(Text))`` rendered into
lines): about 0.1 ms a cell, most of a first paint of 35 rows by 11 columns and of a live
tick's repaint. Nearly all our cells are one line of plain characters that fit their column —
a string without markup, or a ``Text`` with one style — and for those the result is known
without Rich: the padding, the text and the space left over, each in the style Rich would give
it. Anything else (markup, emoji codes, spans, several lines, a cell wider than its column,
centred text) returns None here and goes Rich's way.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

NULL = Style.null()


def _plain_str(value: str) -> bool:
    """A string Textual shows as it is: no markup tag, no ``:emoji:`` code (two colons), one
    line of printable characters."""
    return "[" not in value and value.count(":") < 2 and value.isprintable()


def plain_width(value: object) -> int | None:
    """The cells ``value`` takes in a one-line table cell, or None when Rich must tell."""
    if isinstance(value, str):
        return cell_len(value) if _plain_str(value) else None
    if type(value) is Text and not value.spans and value.plain.isprintable():
        return cell_len(value.plain)
    return None


def cell_line(
    console: Console,
    value: object,
    width: int,
    padding: int,
    pre_style: Style,
    post_style: Style,
) -> list[Segment] | None:
    """``value`` as one line of ``width`` cells with ``padding`` either side, styled as
    Textual's ``Styled(Padding(cell), pre_style, post_style)`` renders it; None where this
    can't tell (see the module's docstring)."""
    if isinstance(value, str):
        if not _plain_str(value):
            return None
        plain, text_style, justify = value, NULL, "default"
    elif type(value) is Text and not value.spans:
        plain, justify = value.plain, value.justify or "default"
        if not plain.isprintable() or justify not in ("default", "left", "right"):
            return None
        if justify == "right" and plain != plain.rstrip():
            return None  # Rich strips trailing spaces before it right-aligns
        style = value.style
        text_style = console.get_style(style, default=NULL) if style else NULL
    else:
        return None
    room = width - 2 * padding
    extra = room - cell_len(plain)
    if extra < 0:
        return None  # cropped or folded: Rich's way
    outer = pre_style + post_style
    inner = pre_style + text_style + post_style
    edge = Segment(" " * padding, outer) if padding else None
    if justify == "right":
        middle = [Segment(" " * extra + plain, inner)]
    elif justify == "left":
        middle = [Segment(plain + " " * extra, inner)]
    else:  # the space left over is the padding's (unstyled by the text)
        middle = [Segment(plain, inner)] if plain else []
        if extra:
            middle.append(Segment(" " * extra, outer))
    return [edge, *middle, edge] if edge is not None else middle
