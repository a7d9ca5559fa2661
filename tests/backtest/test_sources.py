"""Datasets from the simulated market: complete candles, deterministic, ready to backtest."""

from datetime import UTC, datetime
from decimal import Decimal as D

import numpy as np
import pytest

from core.backtest import BacktestSettings, run
from core.backtest.sources import simulated_candles
from core.db.engine import Database
from core.errors import InvalidInput
from core.services import backtests as service
from core.services.actor import SYSTEM
from core.strategies import technical_strategy
from tests.backtest.test_service import add_user

START, END = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC)


async def test_simulated_history_as_a_dataset(db: Database) -> None:
    candles = simulated_candles("ETH/USDT", "1h", START, END)
    assert len(candles) == 14 * 24
    assert np.all(np.diff(candles.ts) == 3_600_000)
    assert np.all(candles.high >= np.maximum(candles.open, candles.close))
    assert candles.rows() == simulated_candles("ETH/USDT", "1h", START, END).rows()
    assert candles.rows() != simulated_candles("ETH/USDT", "1h", START, END, seed=5).rows()

    alice = await add_user(db, "alice@example.com")
    async with db.session() as session:
        info = await service.import_dataset(session, SYSTEM, "ETH/USDT", "1h", candles)
        request = service.BacktestRequest(
            D(1000), D("0.001"), dataset_id=info.id, strategy="sma_cross"
        )
        done = await service.run_backtest(session, alice, request)
    assert done.result.candles == 336 and done.backtest_id is None
    direct = run(
        technical_strategy("sma_cross", {}), candles, BacktestSettings(D(1000), D("0.001"), "1h")
    )
    assert direct.final_equity == done.result.final_equity


def test_simulated_range_errors() -> None:
    with pytest.raises(InvalidInput, match="after the start"):
        simulated_candles("BTC/USDT", "1h", END, START)
    with pytest.raises(InvalidInput, match="no pair"):
        simulated_candles("NOPE/USDT", "1h", START, END)
    with pytest.raises(InvalidInput, match="Unknown timeframe"):
        simulated_candles("BTC/USDT", "2h", START, END)
