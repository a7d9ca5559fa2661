"""The screens speak one dialect (issue 15): one base screen, one column spec with one fit/fill
helper, one way to call a service with one mapping of its failures to words, and dialogs that
don't reach into screen modules.

Read from the source (and, for the screen classes, from the imported modules), so a new screen
or dialog written in another dialect fails here rather than in review.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from textual.screen import ModalScreen, Screen

ROOT = Path(__file__).resolve().parents[2]
TUI = ROOT / "tui"
SERVICE_CALL = TUI / "service_call.py"
TABLE = TUI / "widgets" / "table.py"
# What a service call can raise that the user must be told about (tui/service_call.py maps them).
SERVICE_FAILURES = {"ServiceError", "DatabaseUnavailable", "VaultError", "DBAPIError"}
# Ways a handler shows a message: a toast, a status line, a form's error line.
SHOWING = {"notify", "update", "say", "show_error"}


def sources(under: Path = TUI) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if p.name != "__main__.py")


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def screen_modules() -> list[str]:
    return [module_name(p) for p in sources(TUI / "screens")]


@pytest.mark.parametrize("module", screen_modules())
def test_every_screen_derives_from_the_one_base(module: str) -> None:
    from tui.screens.base import BaseScreen

    loaded = importlib.import_module(module)
    screens = [
        cls
        for _, cls in inspect.getmembers(loaded, inspect.isclass)
        if cls.__module__ == module
        and issubclass(cls, Screen)
        and not issubclass(cls, ModalScreen)
        and cls is not BaseScreen
    ]
    strays = [cls.__name__ for cls in screens if not issubclass(cls, BaseScreen)]
    assert not strays, f"{module}: screens not on BaseScreen: {strays}"


def test_there_is_one_base_screen() -> None:
    """No second base beside BaseScreen (DataScreen was one)."""
    from tui.screens.base import BaseScreen

    bases = set()
    for module in screen_modules():
        loaded = importlib.import_module(module)
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            # A screen class that others derive from, named as a kind of screen.
            if (
                cls.__module__ == module
                and issubclass(cls, Screen)
                and cls is not BaseScreen
                and cls.__subclasses__()
                and cls.__name__.endswith("Screen")
            ):
                bases.add(cls.__name__)
    # The sign-in forms' shared part is a BaseScreen with its error line; nothing else.
    assert bases <= {"AuthFormScreen"}, bases
    assert not (TUI / "screens" / "data_screen.py").exists()


def column_like(node: ast.ClassDef) -> bool:
    """A class that describes table columns: named so, or a record with key, label and width."""
    fields = {
        s.target.id
        for s in node.body
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
    }
    return (
        node.name in {"Col", "Column", "ColumnSpec", "Col_"} or {"key", "label", "width"} <= fields
    )


def test_one_column_spec_and_one_fit_and_fill_helper() -> None:
    found = []
    for path in sources():
        for node in ast.walk(tree(path)):
            if isinstance(node, ast.ClassDef) and column_like(node):
                found.append(f"{rel(path)}:{node.name}")
            if isinstance(node, ast.FunctionDef) and node.name in {"fit_columns", "fill_table"}:
                found.append(f"{rel(path)}:{node.name}")
    assert sorted(found) == sorted(
        [f"{rel(TABLE)}:Column", f"{rel(TABLE)}:fit_columns", f"{rel(TABLE)}:fill_table"]
    ), found


def names_in(node: ast.expr | None) -> set[str]:
    if node is None:
        return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def shows_message(handler: ast.ExceptHandler) -> bool:
    for node in ast.walk(handler):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in SHOWING:
                return True
    return False


def test_only_the_service_call_module_turns_service_failures_into_messages() -> None:
    found = []
    for path in sources():
        if path == SERVICE_CALL or path.parts[len(TUI.parts)] == "cli":
            continue  # the command line prints its refusals: another medium
        for node in ast.walk(tree(path)):
            if (
                isinstance(node, ast.ExceptHandler)
                and names_in(node.type) & SERVICE_FAILURES
                and shows_message(node)
            ):
                found.append(f"{rel(path)}:{node.lineno}")
    assert not found, f"service failures shown outside tui/service_call.py: {found}"


def test_one_mapping_and_one_call_helper() -> None:
    """The sentences and the helpers are defined once, in tui/service_call.py."""
    helpers = {"call_service", "in_session", "succeeded", "done", "failure"}
    sentences = {"UNEXPECTED", "UNREACHABLE", "UNDECRYPTABLE"}
    found = []
    for path in sources():
        module = tree(path)
        for node in ast.walk(module):
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and node.name in helpers
                and node in module.body
            ):
                found.append((rel(path), node.name))
            if isinstance(node, ast.Assign) and node in module.body:
                found += [
                    (rel(path), t.id)
                    for t in node.targets
                    if isinstance(t, ast.Name) and t.id in sentences
                ]
    assert {p for p, _ in found} == {rel(SERVICE_CALL)}, found
    assert {n for _, n in found} == helpers - {"done"} | sentences


def imported_modules(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out


@pytest.mark.parametrize("path", sources(TUI / "modals"), ids=lambda p: p.name)
def test_dialogs_do_not_import_screen_modules(path: Path) -> None:
    screens = sorted(m for m in imported_modules(path) if m.startswith("tui.screens"))
    assert not screens, f"{rel(path)} imports {screens}"


def test_the_palette_building_blocks_live_apart_from_the_providers() -> None:
    """Screens' palette providers take Command/DomainProvider from tui.palette, never from
    tui.providers (which imports them: the cycle that broke a first import)."""
    offenders = [
        rel(p)
        for p in sources()
        if p.name != "providers.py" and "tui.providers" in imported_modules(p)
    ]
    assert offenders == ["tui/app.py"], offenders
    from tui.palette import Command, DomainProvider

    assert Command.__module__ == DomainProvider.__module__ == "tui.palette"


def test_screens_call_services_one_way() -> None:
    """``self.service(fn, ...)`` / ``self.call(awaitable)``: BaseScreen has no second spelling."""
    from tui.screens.base import BaseScreen

    assert not hasattr(BaseScreen, "in_tx")
    assert not hasattr(BaseScreen, "in_session")
    calls = []
    for path in sources(TUI / "screens"):
        for node in ast.walk(tree(path)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"in_tx", "in_session"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            ):
                calls.append(f"{rel(path)}:{node.lineno}")
    assert not calls, calls


# DataTable's own ways to put rows and columns in: only the one table widget uses them.
TABLE_MUTATORS = {
    "add_row",
    "add_rows",
    "add_column",
    "add_columns",
    "update_cell",
    "update_cell_at",
}


def rich_tables(module: ast.Module) -> set[str]:
    """Names bound to a ``rich.table.Table(...)``: printed tables, not DataTables."""
    return {
        target.id
        for node in ast.walk(module)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", None) == "Table"
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def test_one_way_to_fill_a_table() -> None:
    """Every table of the dashboard is a ``KeyedTable`` filled by its keyed diff (``sync``, or
    ``fill_table`` to fit ``Column`` specs to the width): no second table class, no screen
    putting rows or columns in by hand (``commerce.show_rows`` on ``security.KeyTable`` was
    one), no helper that lays out ``Column`` specs elsewhere."""
    found = []
    for path in sources():
        if path == TABLE or path.parts[len(TUI.parts)] == "cli":
            continue  # the command line prints rich tables: another medium
        module = tree(path)
        printed = rich_tables(module)
        # A widget of the module's own with a method so named (the rows of a form field).
        own = {
            n.name
            for n in ast.walk(module)
            if isinstance(n, ast.AsyncFunctionDef | ast.FunctionDef)
        }
        for node in ast.walk(module):
            if isinstance(node, ast.ClassDef) and names_in_bases(node) & {
                "DataTable",
                "KeyedTable",
            }:
                found.append(f"{rel(path)}:{node.lineno} class {node.name}")
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "DataTable":
                found.append(f"{rel(path)}:{node.lineno} DataTable()")
            if (
                isinstance(func, ast.Attribute)
                and func.attr in TABLE_MUTATORS - own
                and not (isinstance(func.value, ast.Name) and func.value.id in printed)
            ):
                found.append(f"{rel(path)}:{node.lineno} .{func.attr}()")
            if isinstance(func, ast.Name) and func.id == "fit_columns":
                found.append(f"{rel(path)}:{node.lineno} fit_columns()")
    assert not found, f"tables filled outside tui/widgets/table.py: {found}"


def names_in_bases(node: ast.ClassDef) -> set[str]:
    return set().union(*(names_in(base) for base in node.bases)) if node.bases else set()
