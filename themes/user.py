"""Users' own themes: one TOML file each in ``themes/`` of the config dir.

```toml
name = "solarized-night"      # optional: the file's name without .toml
primary = "#268BD2"           # required; the other colours are optional
background = "#002B36"
dark = true
[variables]                   # optional: any Textual theme variable
profit = "#859900"
loss = "#DC322F"
```

A file that can't be read, a misspelt key or a bad colour is reported with the file and the
field, and that theme is left out; the others load.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

COLOURS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "warning",
    "error",
    "success",
)
KEYS = ("name", "dark", "variables", *COLOURS)
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")


class ThemeFileError(ValueError):
    pass


def load_user_themes(
    directory: Path, taken: frozenset[str] = frozenset()
) -> tuple[list[Theme], list[str]]:
    """The themes in ``directory/*.toml`` (sorted by file name), and one message per file left
    out. ``taken``: names already registered, which a user theme may not replace."""
    themes: list[Theme] = []
    problems: list[str] = []
    if not directory.is_dir():
        return themes, problems
    names = set(taken)
    for path in sorted(directory.glob("*.toml")):
        try:
            theme = theme_from_file(path)
            if theme.name in names:
                raise ThemeFileError(f"the name {theme.name!r} is already taken")
        except ThemeFileError as exc:
            problems.append(f"Theme file {path}: {exc}; it was not loaded.")
            continue
        names.add(theme.name)
        themes.append(theme)
    return themes, problems


def theme_from_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(f"can't be read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ThemeFileError(f"isn't valid TOML ({exc})") from None
    return theme_from_dict(data, default_name=path.stem)


def theme_from_dict(data: dict[str, Any], *, default_name: str) -> Theme:
    for key in data:
        if key not in KEYS:
            near = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ThemeFileError(f"unknown key {key!r}{hint}")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeFileError("name must be lower-case letters, digits and dashes")
    if "primary" not in data:
        raise ThemeFileError('primary is required (a colour like "#268BD2")')
    colours: dict[str, Any] = {key: _colour(key, data[key]) for key in COLOURS if key in data}
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError("dark must be true or false")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ThemeFileError("variables must be a table of names and text values")
    for key in ("profit", "loss"):  # P&L colours are read as colours: check them too
        if key in variables:
            _colour(f"variables.{key}", variables[key])
    return Theme(name=name, dark=dark, variables=dict(variables), **colours)


def _colour(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f'{field} must be a colour as text, like "#268BD2"')
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f"{field} {value!r} is not a colour") from None
    return value
