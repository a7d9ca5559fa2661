"""Users' own themes from the config dir: loaded and chosen like the built-ins; a broken file is
named with its field and left out, never a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tui.auth_helpers import make_app, settle, wait_for
from themes.user import ThemeFileError, load_user_themes, theme_from_dict

GOOD = """
name = "solarized-night"
primary = "#268BD2"
background = "#002B36"
dark = true
[variables]
profit = "#859900"
loss = "#DC322F"
"""


def _write(directory: Path, files: dict[str, bytes | str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        path = directory / name
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
    return directory


def test_good_and_bad_files(tmp_path: Path) -> None:
    folder = _write(
        tmp_path / "themes",
        {
            "a-good.toml": GOOD,
            "b-misspelt.toml": 'primary = "#fff"\nbackgruond = "#000"\n',
            "c-colour.toml": 'primary = "not-a-colour"\n',
            "d-latin1.toml": 'primary = "#fff" # caf\xe9\n'.encode("latin-1"),
            "e-toml.toml": "primary = \n",
            "f-taken.toml": 'name = "blockbotx-dark"\nprimary = "#fff"\n',
            "plain-file.toml": 'primary = "#123456"\ndark = false\n',
            "notes.txt": "not a theme",
        },
    )
    themes, problems = load_user_themes(folder, frozenset({"blockbotx-dark"}))
    assert [t.name for t in themes] == ["solarized-night", "plain-file"]
    night = themes[0]
    assert (night.primary, night.background, night.dark) == ("#268BD2", "#002B36", True)
    assert night.variables == {"profit": "#859900", "loss": "#DC322F"}
    assert themes[1].dark is False
    assert len(problems) == 5 and all("it was not loaded" in p for p in problems)
    said = "\n".join(problems)
    assert "b-misspelt.toml: unknown key 'backgruond' (did you mean 'background'?)" in said
    assert "c-colour.toml: primary 'not-a-colour' is not a colour" in said
    assert "d-latin1.toml: can't be read" in said
    assert "e-toml.toml: isn't valid TOML" in said
    assert "f-taken.toml: the name 'blockbotx-dark' is already taken" in said


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "primary is required"),
        ({"primary": 3}, "primary must be a colour as text"),
        ({"primary": "#fff", "dark": "yes"}, "dark must be true or false"),
        ({"primary": "#fff", "name": "Has Spaces"}, "name must be lower-case"),
        ({"primary": "#fff", "variables": {"loss": "nope"}}, "variables.loss 'nope'"),
        ({"primary": "#fff", "variables": ["x"]}, "variables must be a table"),
    ],
)
def test_each_field_is_checked(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ThemeFileError, match=message):
        theme_from_dict(data, default_name="mine")


async def test_the_dashboard_offers_a_user_theme_and_names_a_broken_file(
    migrated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    _write(
        config / "themes", {"night.toml": GOOD, "broken.toml": 'primary = "#fff"\nprimray = 1\n'}
    )
    monkeypatch.setenv("BLOCKBOTX_CONFIG_DIR", str(config))
    app = make_app(migrated_url, tmp_path)
    # Every message shown is kept here: a toast expires (10 s) and a loaded machine may be slower.
    said: list[str] = []
    shown = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> None:
        said.append(message)
        shown(message, *args, **kwargs)

    monkeypatch.setattr(app, "notify", notify)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "solarized-night" in app.available_themes
        app.theme = "solarized-night"
        await settle(pilot)
        assert app.current_theme.primary == "#268BD2"
        await wait_for(
            pilot,
            lambda: any("broken.toml: unknown key 'primray'" in m for m in said),
            what="the broken theme file reported",
        )
