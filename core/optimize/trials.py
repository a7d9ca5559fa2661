"""One worker of a search: it asks the study for parameter sets and backtests them.

Workers are processes (the backtest is CPU-bound) on one machine or many; they meet only in the
study's storage. A worker claims a parameter set under the study's advisory lock: if another
trial already holds the same set, this trial evaluates nothing and takes that trial's value
(``duplicate_of``), so a set is never backtested twice, whoever sampled it.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.backtest import BacktestSettings
from core.optimize.objective import evaluate
from core.optimize.space import Dimension, check_grid, grid_size
from core.optimize.storage import advisory_lock, lock_engine, open_storage
from core.strategies.candles import Candles

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
    return optuna.samplers.TPESampler(seed=job.seed + worker)


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
        return len(self.study.get_trials(deepcopy=False)) < self.grid_size

    def _objective(self, trial: Any) -> float:
        import optuna

        if self.grid_size is not None and trial.number >= self.grid_size:
            # Another worker took the last grid point between our check and this trial.
            self.covered = True
            trial.set_user_attr("skipped", "the grid was already covered")
            raise optuna.TrialPruned()
        with advisory_lock(self.locks, f"blockbotx optimize {self.job.study}"):
            params = {d.name: _suggest(trial, d) for d in self.job.dims}
            original = self._same_params(trial.number, params)
            if original is not None:
                trial.set_user_attr("duplicate_of", original)
        if original is not None:
            return self._value_of(original)
        job = self.job
        # who backtested it: the process, after the fork (shared studies span machines)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        found = evaluate(
            job.strategy, params, job.candles, job.settings, job.objective, job.min_trades
        )
        if found.result is not None:
            trial.set_user_attr("trades", found.result.trades)
            trial.set_user_attr("total_return_pct", str(found.result.total_return_pct))
        if found.value is None:
            trial.set_user_attr("skipped", found.reason)
            raise optuna.TrialPruned()
        trial.set_user_attr("value", str(found.value))  # exact, as the backtest reports it
        return float(found.value)

    def _same_params(self, number: int, params: dict[str, Any]) -> int | None:
        """The trial that claimed ``params`` before this one, if any. Params are only ever set
        under the study's lock, so whoever holds them claimed them first."""
        from optuna.trial import TrialState

        holders = [
            other
            for other in self.study.get_trials(
                deepcopy=False,
                states=(TrialState.COMPLETE, TrialState.RUNNING, TrialState.PRUNED),
            )
            if other.number != number and other.params == params
        ]
        originals = [t for t in holders if "duplicate_of" not in t.user_attrs] or holders
        return min(t.number for t in originals) if originals else None

    def _value_of(self, number: int) -> float:
        """The original trial's value, once its worker has finished it."""
        import optuna
        from optuna.trial import TrialState

        while True:
            (other,) = [t for t in self.study.get_trials(deepcopy=False) if t.number == number]
            if other.state == TrialState.COMPLETE:
                return float(other.value)
            if other.state.is_finished():
                raise optuna.TrialPruned()  # not scored there, so not here either
            time.sleep(WAIT_POLL_S)
