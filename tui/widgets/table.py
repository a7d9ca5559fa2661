"""A row-cursor DataTable with vim keys that is updated by keyed diff, never cleared and refilled.

``sync(rows)`` makes the table hold exactly ``rows`` (key -> cells) inside one
``app.batch_update()``: rows no longer present are removed, changed cells are stored and new
rows are added with their key. A live screen calling it a few times a second repaints only the
cells that changed, which is what keeps a slow SSH link usable. Cells are compared as given
(before any wrapping; by identity first), and the changed ones are stored and measured together
with one repaint request — ``update_cell`` would ask for one per cell, which dominates a
1,000-row tick — and only their renders are dropped, so the repaint renders the changed cells
and no others. When the *order* of the rows changes (a new trade on top, another sort), the rows
are re-laid in one pass; that happens on events, not on every price tick.

Cells of one plain line are drawn and measured by ``tui.widgets.cell_render`` rather than
through Rich, and a row's line without Textual's per-line lookups (tests/tui/test_table_cells.py
holds both to Textual's own drawing). These overrides lean on DataTable internals of Textual
8.2.8 (its render caches and their keys), as ``_forget`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.render import measure
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowDoesNotExist, RowKey

from tui.widgets.cell_render import cell_line, plain_width

Cell = str | Text


@dataclass(frozen=True, slots=True)
class Column:
    """A table column, the one spec every table of the TUI is described with."""

    key: str
    label: str
    width: int | None = None
    """Fixed, or None: sized by the table — as wide as the widest cell where the table lays its
    own columns, what is left (at least ``width_min``) where ``fit_columns`` lays them."""
    right: bool = False
    """Right-aligned (figures)."""
    optional: bool = False
    """Dropped when the table is narrower than its ``narrow_below`` (80-column terminals)."""
    keep: int = 0
    """For ``fit_columns``: narrow terminals drop the fixed columns of lowest ``keep`` first."""
    width_min: int = 16
    """For ``fit_columns``: the least a column without a fixed width is given."""


def fit_columns(
    columns: Sequence[Column], available: int, padding: int = 2
) -> list[tuple[Column, int]]:
    """The columns that fit in ``available`` cells, in their order, with their widths."""
    shown = list(columns)
    while True:
        fixed = sum(c.width or 0 for c in shown) + padding * len(shown)
        flexible = [c for c in shown if c.width is None]
        room = available - fixed
        if room >= sum(c.width_min for c in flexible) or len(shown) <= 1:
            break
        droppable = [c for c in shown if c.width is not None]
        if not droppable:
            break
        shown.remove(min(droppable, key=lambda c: c.keep))
    share = max(room // max(len(flexible), 1), 1) if flexible else 0
    return [(c, c.width if c.width is not None else max(share, c.width_min)) for c in shown]


def _same(a: Any, b: Any) -> bool:
    # Rich's Text equality ignores the base style: a P&L turning from green to red must repaint.
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and str(a.style) == str(b.style) and a.spans == b.spans
    return type(a) is type(b) and a == b


class KeyedTable(DataTable):
    """Row cursor, zebra stripes, j/k/g/G, Enter posts ``RowSelected``."""

    BINDINGS = [  # noqa: RUF012
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        id: str | None = None,
        narrow_below: int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, **kwargs)
        self.all_columns = tuple(columns)
        self.columns_spec = self.all_columns
        self.narrow_below = narrow_below
        self._rows: list[tuple[str, Sequence[Cell]]] = []
        # What ``fill_table`` last showed, to fit again when the table's width changes.
        self._fitted: tuple[Sequence[Column], list[tuple[str, Mapping[str, Cell]]]] | None = None
        self._raw: dict[str, tuple[Cell, ...]] = {}
        self._given: dict[str, Sequence[Cell]] = {}
        self._shown: list[int] = []
        self._right: dict[str | int, tuple[Cell, Text, int]] = {}
        self._row_styles: dict[tuple[Any, ...], Style] = {}
        self._line_style = Style.null()

    def on_mount(self) -> None:
        self._lay_columns()

    def _lay_columns(self) -> None:
        for column in self.columns_spec:
            self.add_column(column.label, key=column.key, width=column.width)

    def on_resize(self) -> None:
        if self._fitted is not None:  # filled to fit a width: fit the new one
            fill_table(self, *self._fitted)
            return
        narrow = 0 < self.size.width < self.narrow_below
        wanted = tuple(c for c in self.all_columns if not (narrow and c.optional))
        if wanted != self.columns_spec:
            self.columns_spec = wanted
            self.clear(columns=True)
            self._lay_columns()
            self.sync(self._rows)

    def _cell(self, column: Column, value: Cell) -> Cell:
        return self._sized(column, value)[0] if column.right else value

    def _sized(self, column: Column, value: Cell) -> tuple[Cell, int]:
        """The cell as stored (right-aligned ones are copies: see below) and the width it
        needs."""
        if not column.right:
            return value, self._width(value)
        # Right-aligned cells are copies: one per figure, shared by the rows showing it (a
        # price tick would otherwise copy thousands of equal Texts), measured once. Rich
        # never mutates them.
        key = value if isinstance(value, str) else id(value)
        kept = self._right.get(key)
        if kept is not None and (kept[0] is value or isinstance(value, str)):
            return kept[1], kept[2]
        if len(self._right) > 8192:
            self._right.clear()
        text = value.copy() if isinstance(value, Text) else Text(value)
        text.justify = "right"
        width = self._width(text)
        self._right[key] = (value, text, width)  # the value is kept: its id stays its own
        return text, width

    def _width(self, value: object) -> int:
        """The cells ``value`` needs in a one-line row (as Textual measures it)."""
        width = plain_width(value)
        if width is None:
            width = measure(self.app.console, default_cell_formatter(value, False, 1), 1)
        return width

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except (CellDoesNotExist, RowDoesNotExist):
            return None

    @property
    def keys(self) -> list[str]:
        return [row.key.value for row in self.ordered_rows if row.key.value is not None]

    def sync(self, rows: Iterable[tuple[str, Sequence[Cell]]], *, from_top: bool = False) -> None:
        """Show exactly ``rows`` (cells for every column, shown or not), in this order, changing
        only what differs. The cursor stays on its row (a live update), or with ``from_top`` (a
        new sort, page or filter: another list) goes to the first row, scrolled into view."""
        self._rows = list(rows)
        shown = [i for i, c in enumerate(self.all_columns) if c in self.columns_spec]
        order = [key for key, _ in self._rows]
        current = self.keys
        keep = set(order)
        selected = self.selected_key
        if len(shown) == len(self.all_columns):  # every column: the cells as given
            pick: Callable[[Sequence[Cell]], tuple[Cell, ...]] = tuple
        elif len(shown) > 1:  # (itemgetter of several indexes gives a tuple)
            pick = itemgetter(*shown)
        else:
            pick = lambda cells: tuple(cells[i] for i in shown)  # noqa: E731
        # Rows given as the very tuple given last time (a live screen keeps them) are kept
        # without picking their shown cells again (while the same columns are shown).
        given = self._given if self._shown == shown else {}
        raw_before = self._raw
        self._shown = shown
        raw = {
            key: raw_before[key] if given.get(key) is cells and key in raw_before else pick(cells)
            for key, cells in self._rows
        }
        self._given = {key: cells for key, cells in self._rows}
        with self.app.batch_update():
            survivors = [k for k in current if k in keep]
            if order[: len(survivors)] != survivors:  # the order changed: re-lay the rows
                self.clear()
                for key, cells in raw.items():
                    self.add_row(*self._cells(cells), key=key)
            else:
                for key in current:
                    if key not in keep:
                        self.remove_row(key)
                have = set(survivors)
                changed: dict[str, Sequence[int]] = {}
                # The table's own keys: the cells' dicts find them by identity
                column_keys = [column.key for column in self.ordered_columns]
                widest = [0] * len(column_keys)
                for key, cells in raw.items():
                    if key not in have:
                        self.add_row(*self._cells(cells), key=key)
                    elif raw_before.get(key) is not cells:
                        self._update_row(
                            key, raw_before.get(key), cells, column_keys, changed, widest
                        )
                if changed:
                    # One repaint for every cell changed (``update_cell`` asks for one each).
                    self._widen(column_keys, widest)
                    self._forget(changed, column_keys)
                    self.refresh()
            self._raw = raw
            if self._require_update_dimensions:
                # Textual measures new rows when the table next goes idle, which follows a
                # message: one that gets none (a dialog opened over it at once) would keep its
                # columns as wide as their labels. This one makes sure.
                self.call_later(_measured)
            if from_top:
                self.move_cursor(row=0, animate=False, scroll=False)
                self.scroll_home(animate=False)
            elif selected is not None and selected in keep:
                self.move_cursor(row=self.get_row_index(selected), animate=False, scroll=False)

    def _cells(self, cells: Sequence[Cell]) -> list[Cell]:
        return [self._cell(c, v) for c, v in zip(self.columns_spec, cells, strict=True)]

    def _update_row(
        self,
        key: str,
        before: tuple[Cell, ...] | None,
        after: tuple[Cell, ...],
        column_keys: Sequence[ColumnKey],
        changed: dict[str, Sequence[int]],
        widest: list[int],
    ) -> None:
        """Store the cells that differ, noting their columns in ``changed`` and the width they
        need in ``widest`` (by column). A live screen hands back the very same object for a
        cell that didn't change: most compare by identity."""
        if before is None or len(before) != len(after):
            moved: Sequence[int] = range(len(after))
        else:
            moved = [
                i
                for i, (was, now) in enumerate(zip(before, after, strict=True))
                if was is not now and not _same(was, now)
            ]
        if not moved:
            return
        row = self._data[key]  # type: ignore[index]  # (a RowKey hashes and equals its str)
        spec = self.columns_spec
        for i in moved:
            row[column_keys[i]], width = self._sized(spec[i], after[i])
            if width > widest[i]:
                widest[i] = width
        changed[key] = moved

    def _widen(self, column_keys: Sequence[ColumnKey], widest: Sequence[int]) -> None:
        """Columns as wide as their changed cells need (``update_cell`` would have Textual
        measure them when idle; ``_update_row`` stores cells itself). Never narrower: a live
        figure doesn't make its column jitter."""
        widened = False
        for key, width in zip(column_keys, widest, strict=True):
            column = self.columns[key]
            if width > column.content_width:
                column.content_width = width
                widened = True
        if widened:
            self._size_virtually()
            self._update_count += 1  # every render was at the old widths

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        widths = self._widths()
        new_rows = list(new_rows)
        if not self._measure(new_rows):
            super()._update_dimensions(new_rows)
        self._widened(widths)

    def _measure(self, new_rows: Sequence[RowKey]) -> bool:
        """Textual's ``_update_dimensions`` for rows of one line without labels, measuring
        the cells as they are: Textual formats every cell of every new row into a Rich
        renderable to measure it (a third of a trade page's first paint). False: not such
        rows, left to Textual."""
        rows, data = self.rows, self._data
        if any(
            (row := rows.get(key)) is not None and (row.label is not None or row.height != 1)
            for key in new_rows
        ):
            return False
        columns = self.ordered_columns
        for key in new_rows:
            cells = data.get(key)
            if cells is None or key not in self._row_locations:
                continue  # removed before the table went idle
            for column in columns:
                value = cells.get(column.key)
                width = 0 if value is None else self._width(value)
                if width > column.content_width:
                    column.content_width = width
        self._size_virtually()
        return True

    def _size_virtually(self) -> None:
        """The scrollable size from the columns' widths and the rows' heights (as Textual's
        ``_update_dimensions`` ends)."""
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            sum(c.get_render_width(self) for c in self.columns.values())
            + self._row_label_column_width,
            self._total_row_height + header,
        )

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """Textual's, with a body cell of one plain line drawn by ``cell_line`` (its cache
        key kept, so ``_forget`` drops it the same)."""
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:  # the header, a row label
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor,
               self._update_count, self._pseudo_class_state)  # fmt: skip
        lines = self._cell_render_cache.get(key)
        if lines is not None:
            return lines
        row = self.rows.get(row_key)
        if row is not None and row.height == 1:
            value = self._data[row_key].get(column_key)
            component, post = self._get_styles_to_render_cell(
                False, False, row_index < self.fixed_rows or column_index < self.fixed_columns,
                hover, cursor, self.show_cursor, self._show_hover_cursor,
                self.cursor_foreground_priority == "css",
                self.cursor_background_priority == "css",
            )  # fmt: skip
            pre = base_style + Style.from_meta({"row": row_index, "column": column_index})
            line = cell_line(
                self.app.console,
                "" if value is None else value,
                width,
                self.cell_padding,
                pre + component,
                post,
            )
            if line is not None:
                self._cell_render_cache[key] = [line]
                return [line]
        return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)

    def _update_column_widths(self, updated_cells: set[Any]) -> None:
        widths = self._widths()
        super()._update_column_widths(updated_cells)
        self._widened(widths)

    def _widths(self) -> list[int]:
        return [column.content_width for column in self.ordered_columns]

    def _widened(self, before: list[int]) -> None:
        """Renders cached at other column widths go (Textual keys them by the update count,
        which ``_forget`` leaves alone): else a row drawn before its width was measured stays
        clipped to the labels' widths."""
        if self._widths() != before:
            self._update_count += 1
            self.refresh()

    def notify_style_update(self) -> None:
        self._row_styles.clear()
        super().notify_style_update()

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """Textual's, kept per kind of row: it asks CSS for the stripe's style on every line
        of every repaint."""
        key = (min(row_index, 0) if row_index < self.fixed_rows else 1 + row_index % 2,
               base_style, self.zebra_stripes, self._pseudo_class_state)  # fmt: skip
        style = self._row_styles.get(key)
        if style is None:
            style = self._row_styles[key] = super()._get_row_style(row_index, base_style)
        return style

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        """Textual's for a row cursor without fixed columns or row labels (every table here):
        its cache key, cells and filler, without working out per line the header's style,
        the background and the columns' order, which it needs only for the other kinds."""
        if (
            self.cursor_type != "row"
            or self.fixed_columns
            or (self._labelled_row_exists and self.show_row_labels)
        ):
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        key = (row_key, line_no, base_style, cursor_location, hover_location, self.cursor_type,
               self.show_cursor, self._show_hover_cursor, self._update_count,
               self._pseudo_class_state)  # fmt: skip
        cached = self._row_render_cache.get(key)
        if cached is not None:
            return cached
        row_index = self._row_locations.get(row_key)
        if row_index is None:
            row_index = -1
        row_style = self._get_row_style(row_index, base_style)
        cursor, hover = row_index == cursor_location.row, row_index == hover_location.row
        widths = [column.get_render_width(self) for column in self.ordered_columns]
        scrollable = [
            self._render_cell(row_index, i, row_style, width, cursor=cursor, hover=hover)[line_no]
            for i, width in enumerate(widths)
        ]
        remaining = max(0, self.size.width - sum(widths) - self._row_label_column_width)
        extend, _ = self._get_styles_to_render_cell(
            row_index == -1, False, False, hover, cursor, self.show_cursor,
            self._show_hover_cursor, False, False,
        )  # fmt: skip
        extend = row_style + extend
        extend += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        scrollable.append([Segment(" " * remaining, extend)])
        pair: tuple[list[list[Segment]], list[list[Segment]]] = ([], scrollable)
        self._row_render_cache[key] = pair
        return pair

    def render_lines(self, crop: Region) -> list[Strip]:
        self._line_style = self.rich_style  # once a repaint, not once a line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Textual's, with the table's style worked out once a repaint."""
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        fixed = [self._row_locations.get_key(i) for i in range(self.fixed_rows)]
        fixed_height = sum(self.get_row_height(key) for key in fixed if key is not None)
        if self.show_header:
            fixed_height += self.get_row_height(self._header_row_key)
        if y >= fixed_height:
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + width, self._line_style)

    def _forget(
        self, changed: Mapping[str, Sequence[int]], column_keys: Sequence[ColumnKey]
    ) -> None:
        """Drop the renders of the changed cells and their rows, and keep the rest.

        ``update_cell`` bumps the table's update count, which every render cache is keyed by:
        the next paint then renders every visible cell again, though a price tick changes three
        columns of eleven. The rows and columns keep their order and sizes here, so only the
        changed cells, their rows' lines and the table's lines (cheap, from the rows) go.
        ``changed``: the columns (indexes) changed in each row (by key)."""
        position = {key: i for i, key in enumerate(column_keys)}
        _drop(self._cell_render_cache, lambda k: position.get(k[1]) in changed.get(k[0], ()))
        _drop(self._row_render_cache, lambda k: k[0] in changed)
        rows = self._row_locations
        _drop(self._row_renderable_cache, lambda k: rows.get_key(k[1]) in changed)
        self._line_cache.clear()


def _drop(cache: LRUCache[Any, Any], stale: Callable[[Any], bool]) -> None:
    """Discard a render cache's entries whose keys are ``stale``."""
    keys = cache.keys()  # (the cache can't be iterated itself)
    for key in [k for k in keys if stale(k)]:
        cache.discard(key)


def _measured() -> None:
    """Nothing: only the message that carries it counts (``KeyedTable.sync``)."""


def fill_table(
    table: KeyedTable,
    columns: Sequence[Column],
    rows: Iterable[tuple[str, Mapping[str, Cell]]],
) -> None:
    """Show ``rows`` (key, cells by column key) in the columns that fit the table's width.

    The columns are re-laid only when the fit changes (a resize); rows go through the table's
    keyed diff, so a live refresh repaints only the cells that changed."""
    rows = list(rows)
    table._fitted = (columns, rows)
    available = (table.size.width or table.app.size.width) - 2
    spec = tuple(replace(col, width=width) for col, width in fit_columns(columns, available))
    if spec != table.columns_spec:
        # The caller decides the columns: they are all the table has, all shown.
        table.all_columns = table.columns_spec = spec
        table.clear(columns=True)
        for column in spec:
            table.add_column(column.label, key=column.key, width=column.width)
    table.sync((key, [cells.get(c.key, "") for c in spec]) for key, cells in rows)
