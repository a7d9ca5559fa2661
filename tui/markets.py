"""Where paper trades are priced, as the forms offer it: the simulated market, then each
exchange's real public prices (no keys needed).

ccxt's list is built once per process by instantiating every exchange class (a second or two on
a busy machine), so forms show the simulated market at once and ask for the rest off the event
loop (``paper_market_choices``)."""

from __future__ import annotations

import asyncio

from core.services.exchanges import available_exchanges

SIMULATED = "simulated"
SIMULATED_LABEL = "Paper · simulated market"


def simulated_choice(prefix: str = "") -> list[tuple[str, str]]:
    return [(SIMULATED_LABEL, prefix + SIMULATED)]


def paper_markets(prefix: str = "") -> list[tuple[str, str]]:
    """(label, ``prefix`` + market) choices: ``simulated`` first, then every exchange by name."""
    return simulated_choice(prefix) + [
        (f"Paper · {s.name} prices", prefix + s.id) for s in available_exchanges()
    ]


async def paper_market_choices(prefix: str = "") -> list[tuple[str, str]]:
    """``paper_markets`` built in a thread (the first call reads ccxt's every exchange class)."""
    return await asyncio.to_thread(paper_markets, prefix)
