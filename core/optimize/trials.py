"""One worker of a search: it asks the study for parameter sets and backtests them.

Workers are processes (the backtest is CPU-bound) on one machine or many; they meet only in the
study's storage. A worker claims a parameter set under the study's advisory lock: if another
trial already holds the same set, this trial evaluates nothing and takes that trial's value
(``duplicate_of``), so a set is never backtested twice, whoever sampled it.
"""

from __future__ import annotations

import json
import os
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.backtest import BacktestSettings
from core.optimize.objective import evaluate
from core.optimize.space import Dimension, check_grid, grid_size
from core.optimize.storage import lock_engine, lock_key, open_storage
from core.strategies.candles import Candles

CLAIM = "claim"  # user attribute: the claimed parameter set, as sorted JSON
RESULT = "result"  # user attribute: what the backtest gave (value as an exact decimal string)
_CLAIMED = sa.text(
    "SELECT t.number FROM trials t JOIN trial_user_attributes a ON a.trial_id = t.trial_id "
    "WHERE t.study_id = :s AND a.key = 'claim' AND a.value_json = :v ORDER BY t.number LIMIT 1"
)
WAIT_POLL_S = 0.1  # while another worker finishes the same parameter set


@dataclass(frozen=True, slots=True)
class Job:
    """What every worker of one study needs (handed over by fork, never pickled)."""

    url: str
    study: str
    strategy: str
    dims: tuple[Dimension, ...]
    sampler: str  # "tpe" | "grid"
    seed: int
    objective: str
    min_trades: int
    settings: BacktestSettings
    candles: Candles


def make_sampler(job: Job, worker: int) -> Any:
    import optuna

    if job.sampler == "grid":
        return optuna.samplers.GridSampler(check_grid(job.dims), seed=job.seed)
    with warnings.catch_warnings():  # multivariate is "experimental" since Optuna 2.2
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # one joint sample per trial (fewer storage reads than one per parameter); a running
        # trial counts as a poor result so parallel workers spread out
        return optuna.samplers.TPESampler(
            seed=job.seed + worker, multivariate=True, constant_liar=True
        )


def _suggest(trial: Any, dim: Dimension) -> int | float:
    if dim.is_int:
        return int(
            trial.suggest_int(dim.name, int(dim.low), int(dim.high), step=int(dim.step or 1))
        )
    return float(trial.suggest_float(dim.name, dim.low, dim.high, step=dim.step))


class Worker:
    def __init__(self, job: Job, worker: int, claim: Callable[[], bool]) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.job, self.claim = job, claim
        self.storage = open_storage(job.url)
        self.locks = lock_engine(job.url)
        self.study = optuna.load_study(
            study_name=job.study, storage=self.storage, sampler=make_sampler(job, worker)
        )
        self.study_id: int = self.study._study_id
        self.lock = lock_key(f"blockbotx optimize {job.study}")
        self.grid_size = grid_size(job.dims) if job.sampler == "grid" else None
        self.covered = False

    def close(self) -> None:
        self.locks.dispose()
        self.storage.engine.dispose()

    def run(self, done: Callable[[], None]) -> None:
        """Trials until the claim says stop or the grid is covered; ``done`` after each."""
        while not self.covered and self._grid_left() and self.claim():
            self.study.optimize(self._objective, n_trials=1, catch=())
            done()

    def _grid_left(self) -> bool:
        if self.grid_size is None:
            return True
        with self.locks.connect() as conn:
            count = conn.scalar(
                sa.text("SELECT count(*) FROM trials WHERE study_id = :s"), {"s": self.study_id}
            )
        return int(count or 0) < self.grid_size

    def _objective(self, trial: Any) -> float:
        import optuna

        if self.grid_size is not None and trial.number >= self.grid_size:
            # Another worker took the last grid point between our check and this trial.
            self.covered = True
            trial.set_user_attr("skipped", "the grid was already covered")
            raise optuna.TrialPruned()
        params, original = self._claim(trial)
        if original is not None:
            return self._value_of(original)
        job = self.job
        found = evaluate(
            job.strategy, params, job.candles, job.settings, job.objective, job.min_trades
        )
        result = found.result
        trial.set_user_attr(  # one write: every storage round trip counts on a busy database
            RESULT,
            {
                # who backtested it: the process, after the fork (a study spans machines)
                "worker": f"{socket.gethostname()}:{os.getpid()}",
                "value": None if found.value is None else str(found.value),  # exact
                "trades": None if result is None else result.trades,
                "total_return_pct": None if result is None else str(result.total_return_pct),
                "skipped": found.reason,
            },
        )
        if found.value is None:
            raise optuna.TrialPruned()
        return float(found.value)

    def _claim(self, trial: Any) -> tuple[dict[str, Any], int | None]:
        """Sample the trial's parameters and claim them, or find the trial that claimed them
        first. The study's transaction-scoped advisory lock makes sample-check-mark atomic
        across every worker on every machine."""
        with self.locks.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": self.lock})
            params = {d.name: _suggest(trial, d) for d in self.job.dims}
            key = json.dumps(params, sort_keys=True)
            original = conn.scalar(_CLAIMED, {"s": self.study_id, "v": json.dumps(key)})
            if original is None:
                trial.set_user_attr(CLAIM, key)  # committed by Optuna before the lock ends
            else:
                trial.set_user_attr("duplicate_of", int(original))
        return params, None if original is None else int(original)

    def _value_of(self, number: int) -> float:
        """The original trial's value, once its worker has finished it."""
        import optuna
        from optuna.trial import TrialState

        storage = self.study._storage
        trial_id = storage.get_trial_id_from_study_id_trial_number(self.study_id, number)
        while True:
            other = storage.get_trial(trial_id)
            if other.state == TrialState.COMPLETE and other.value is not None:
                return float(other.value)
            if other.state.is_finished():
                raise optuna.TrialPruned()  # not scored there, so not here either
            time.sleep(WAIT_POLL_S)
