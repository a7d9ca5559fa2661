"""Where paper trades are priced, as the forms offer it: the simulated market, then each
exchange's real public prices (no keys needed)."""

from __future__ import annotations

from core.services.exchanges import available_exchanges

SIMULATED = "simulated"


def paper_markets(prefix: str = "") -> list[tuple[str, str]]:
    """(label, ``prefix`` + market) choices: ``simulated`` first, then every exchange by name."""
    return [("Paper · simulated market", prefix + SIMULATED)] + [
        (f"Paper · {s.name} prices", prefix + s.id) for s in available_exchanges()
    ]
