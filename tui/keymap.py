"""Key bindings as data: every binding has an id, and ``config.toml`` may rebind any of them.

```toml
[keymap]
"nav.bots" = "b"          # the bots screen on b instead of 2
"app.help" = "f1,question_mark"
```

Unknown ids and malformed keys are reported (and ignored) rather than failing start-up: a typo
in the config must not lock anyone out of their dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType

# A key is a name (a, f5, question_mark, ...) with optional modifiers; several are comma-separated.
_KEY = re.compile(r"^((ctrl|shift|alt|super|meta)\+)*[a-z0-9_]+$|^.$", re.IGNORECASE)


GLOBAL_PREFIXES = ("app.", "nav.")


@dataclass(frozen=True, slots=True)
class Keymap:
    bindings: dict[str, str]
    problems: tuple[str, ...]


def known_ids(bindings: Iterable[BindingType]) -> set[str]:
    return {b.id for b in bindings if isinstance(b, Binding) and b.id}


def resolve(overrides: Mapping[str, object], known: set[str]) -> Keymap:
    """The valid overrides, and a line for each one ignored."""
    good: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in overrides.items():
        # Screens' bindings load with their screens; the global ones can be checked at start.
        if binding_id.startswith(GLOBAL_PREFIXES) and binding_id not in known:
            problems.append(f"keymap: no binding {binding_id!r} (the help screen lists the ids)")
            continue
        if not isinstance(keys, str) or not keys.strip():
            problems.append(f'keymap: {binding_id!r} needs keys as text, like "b" or "ctrl+b"')
            continue
        parts = [k.strip() for k in keys.split(",")]
        bad = [k for k in parts if not _KEY.match(k)]
        if bad:
            problems.append(f"keymap: {binding_id!r} has a key Textual can't read: {bad[0]!r}")
            continue
        good[binding_id] = ",".join(parts)
    return Keymap(good, tuple(problems))
