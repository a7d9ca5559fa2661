"""A whole search: the in-sample / out-of-sample split or walk-forward windows, a study per
window searched by worker processes, then each window's best parameters backtested on its
out-of-sample candles. Semantics in docs/optimize.md."""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.backtest import BacktestSettings
from core.backtest.trade_json import iso
from core.errors import InvalidInput
from core.optimize.objective import check_objective, evaluate, strategy_parameters
from core.optimize.space import Dimension, check_grid, grid_size, parse_space
from core.optimize.storage import open_storage
from core.optimize.trials import RESULT, Job, Worker
from core.strategies.candles import Candles

Progress = Callable[[int, int], None]
MIN_WINDOW = 50  # candles: a window shorter than this can't tell parameters apart
TOP = 10  # best trials kept in a window's summary


@dataclass(frozen=True, slots=True)
class SearchRequest:
    strategy: str
    space: tuple[str, ...]  # "--space" texts
    settings: BacktestSettings
    sampler: str = "tpe"
    trials: int | None = None  # None: 100 for tpe, the whole grid for grid
    objective: str = "total_return"
    min_trades: int = 0
    oos: float = 0.25  # the last fraction of the candles held out
    walk_forward: int = 1  # windows; 1 is a single split
    jobs: int | None = None  # worker processes; None: the machine's cores
    study: str | None = None  # None: a fresh study per run
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Checked:
    dims: tuple[Dimension, ...]
    trials: int
    jobs: int


def check_request(request: SearchRequest) -> Checked:
    """Every refusal before any work: strategy, space, sampler, objective, counts."""
    dims = parse_space(request.space, strategy_parameters(request.strategy))
    check_objective(request.objective)
    if request.sampler not in ("tpe", "grid"):
        raise InvalidInput(
            f"Unknown sampler {request.sampler!r}: choose tpe or grid.", field="sampler"
        )
    if request.trials is not None and request.trials < 1:
        raise InvalidInput("--trials must be at least 1.", field="trials")
    if request.min_trades < 0:
        raise InvalidInput("--min-trades can't be negative.", field="min_trades")
    if not 0 <= request.oos < 1:
        raise InvalidInput("--oos is a fraction from 0 up to (not including) 1.", field="oos")
    if request.walk_forward < 1:
        raise InvalidInput("--walk-forward needs at least 1 window.", field="walk_forward")
    if request.walk_forward > 1 and request.oos == 0:
        raise InvalidInput("Walk-forward windows need --oos above 0.", field="oos")
    if request.jobs is not None and request.jobs < 1:
        raise InvalidInput("--jobs must be at least 1.", field="jobs")
    if request.sampler == "grid":
        check_grid(dims)
        trials = request.trials or grid_size(dims)
    else:
        trials = request.trials or 100
    jobs = min(request.jobs or os.cpu_count() or 1, trials)
    return Checked(dims, trials, jobs)


@dataclass(frozen=True, slots=True)
class Window:
    index: int
    in_sample: slice
    out_of_sample: slice | None


def windows(n: int, oos: float, count: int) -> list[Window]:
    """Rolling windows: each in-sample span is followed by its out-of-sample span; the spans
    roll forward by one out-of-sample length, and the last one ends with the candles."""
    held = int(n * oos)
    step = held // count
    length = n - held  # in-sample candles per window
    if length < MIN_WINDOW or (oos and step < MIN_WINDOW):
        raise InvalidInput(
            f"{n:,} candles are too few for that split: every in-sample and out-of-sample span "
            f"needs at least {MIN_WINDOW} candles.",
            field="oos",
        )
    if not oos:
        return [Window(0, slice(0, n), None)]
    out = []
    for k in range(count):
        start = k * step
        stop = start + length
        end = n if k == count - 1 else stop + step
        out.append(Window(k, slice(start, stop), slice(stop, end)))
    return out


def _span(candles: Candles, part: slice) -> dict[str, Any]:
    chosen = candles[part]
    return {
        "start": iso(int(chosen.ts[0])),
        "end": iso(int(chosen.ts[-1])),
        "candles": len(chosen),
    }


@dataclass(slots=True)
class WindowReport:
    index: int
    study: str
    in_sample: dict[str, Any]
    best: dict[str, Any] | None  # {"params", "value", "trial"}
    trials: list[dict[str, Any]]
    importance: dict[str, float]
    out_of_sample: dict[str, Any] | None


@dataclass(slots=True)
class SearchReport:
    strategy: str
    objective: str
    sampler: str
    space: list[str]
    timeframe: str
    candles: int
    windows: list[WindowReport] = field(default_factory=list)
    elapsed_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The last window (the parameters to trade next) at the top, every window below."""
        last = self.windows[-1]
        chained = _chained_oos(self.windows)
        return {
            "strategy": self.strategy,
            "objective": self.objective,
            "sampler": self.sampler,
            "space": self.space,
            "timeframe": self.timeframe,
            "candles": self.candles,
            "study": last.study,
            "best": last.best,
            "trials": last.trials,
            "importance": last.importance,
            "in_sample": last.in_sample,
            "out_of_sample": last.out_of_sample,
            "walk_forward": [
                {
                    "window": w.index + 1,
                    "study": w.study,
                    "in_sample": w.in_sample,
                    "best": w.best,
                    "out_of_sample": w.out_of_sample,
                }
                for w in self.windows
            ],
            "out_of_sample_return_pct": None if chained is None else str(chained),
            "elapsed_s": round(self.elapsed_s, 3),
        }


def _chained_oos(reports: list[WindowReport]) -> Decimal | None:
    """The out-of-sample returns of the windows compounded, in % (null without any)."""
    growth, seen = Decimal(1), False
    for w in reports:
        oos = w.out_of_sample
        if oos is None or oos.get("total_return_pct") is None:
            continue
        growth *= 1 + Decimal(oos["total_return_pct"]) / 100
        seen = True
    return ((growth - 1) * 100).quantize(Decimal("0.0001")) if seen else None


def _worker_main(job: Job, index: int, claimed: Any, limit: int, events: Any) -> None:
    """A worker process: trials until the run's quota is claimed; errors go back as text."""

    def claim() -> bool:
        with claimed.get_lock():
            if claimed.value >= limit:
                return False
            claimed.value += 1
            return True

    try:
        worker = Worker(job, index, claim)
        try:
            worker.run(lambda: events.put(("trial", index)))
        finally:
            worker.close()
    except Exception as exc:  # reported by the parent as one line
        events.put(("error", f"{type(exc).__name__}: {exc}"))
    events.put(("done", index))


def _run_alone(job: Job, checked: Checked, progress: Callable[[], None]) -> None:
    """One job runs its trials here: forking a process to wait for it would only add the
    fork (and, for a caller with threads, fork's hazards). Errors read as a worker's would."""
    claimed = 0

    def claim() -> bool:
        nonlocal claimed
        if claimed >= checked.trials:
            return False
        claimed += 1
        return True

    try:
        worker = Worker(job, 0, claim)
        try:
            worker.run(progress)
        finally:
            worker.close()
    except Exception as exc:
        raise RuntimeError(f"an optimisation worker failed: {type(exc).__name__}: {exc}") from exc


def _run_workers(job: Job, checked: Checked, progress: Callable[[], None]) -> None:
    if checked.jobs == 1:
        _run_alone(job, checked, progress)
        return
    context = mp.get_context("fork")  # the candles are inherited, not copied through a pipe
    claimed = context.Value("i", 0)
    events = context.Queue()
    procs = [
        context.Process(
            target=_worker_main, args=(job, k, claimed, checked.trials, events), daemon=True
        )
        for k in range(checked.jobs)
    ]
    for proc in procs:
        proc.start()
    finished, errors = 0, []
    try:
        while finished < len(procs):
            try:
                kind, detail = events.get(timeout=1.0)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    break  # a worker died without a word (killed)
                continue
            if kind == "trial":
                progress()
            elif kind == "error":
                errors.append(detail)
            else:
                finished += 1
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
    if errors:
        raise RuntimeError(f"an optimisation worker failed: {errors[0]}")


def _summarise(study: Any) -> tuple[dict | None, list[dict], dict[str, float]]:
    import optuna
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    rows = []
    for t in trials:
        if not t.state.is_finished():
            continue
        result = t.user_attrs.get(RESULT) or {}
        value = result.get("value")
        if value is None and t.state == TrialState.COMPLETE:  # a duplicate: its original's
            value = repr(t.value)
        rows.append(
            {
                "number": t.number,
                "params": dict(t.params),
                "value": None if value is None else float(value),
                "state": t.state.name.lower(),
                "trades": result.get("trades"),
                "duplicate_of": t.user_attrs.get("duplicate_of"),
                "skipped": result.get("skipped") or t.user_attrs.get("skipped"),
            }
        )
    scored = [r for r in rows if r["value"] is not None and r["duplicate_of"] is None]
    scored.sort(key=lambda r: (-r["value"], r["number"]))
    best = (
        {"params": scored[0]["params"], "value": scored[0]["value"], "trial": scored[0]["number"]}
        if scored
        else None
    )
    importance: dict[str, float] = {}
    if len(scored) >= 2:
        try:
            importance = {
                k: round(float(v), 4)
                for k, v in optuna.importance.get_param_importances(study).items()
            }
        except (RuntimeError, ValueError):  # e.g. every trial the same value
            importance = {}
    return best, rows, importance


def search(
    request: SearchRequest,
    candles: Candles,
    url: str,
    progress: Progress | None = None,
) -> SearchReport:
    """Run the search on ``candles`` with the studies in the database at ``url``."""
    import optuna

    started = time.perf_counter()
    checked = check_request(request)
    parts = windows(len(candles), request.oos, request.walk_forward)
    # a fresh run never meets another by chance, whatever machine it runs on
    base = request.study or f"optimize-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    total, done = checked.trials * len(parts), 0
    report = SearchReport(
        request.strategy,
        request.objective,
        request.sampler,
        [d.text() for d in checked.dims],
        request.settings.timeframe,
        len(candles),
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for part in parts:
        name = base if len(parts) == 1 else f"{base}.wf{part.index + 1}"
        _prepare_study(url, name, request, checked)
        job = Job(
            url,
            name,
            request.strategy,
            checked.dims,
            request.sampler,
            request.seed,
            request.objective,
            request.min_trades,
            request.settings,
            candles[part.in_sample],
        )

        def advanced() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(min(done, total), total)

        _run_workers(job, checked, advanced)
        storage = open_storage(url)
        try:
            study = optuna.load_study(study_name=name, storage=storage)
            best, rows, importance = _summarise(study)
        finally:
            storage.engine.dispose()
        oos = None
        if part.out_of_sample is not None:
            oos = _span(candles, part.out_of_sample)
            if best is not None:
                oos.update(_out_of_sample(request, best["params"], candles[part.out_of_sample]))
        top = sorted(rows, key=lambda r: (r["value"] is None, -(r["value"] or 0), r["number"]))
        report.windows.append(
            WindowReport(
                part.index,
                name,
                _span(candles, part.in_sample),
                best,
                top,
                importance,
                oos,
            )
        )
    report.elapsed_s = time.perf_counter() - started
    return report


def _out_of_sample(
    request: SearchRequest, params: dict[str, Any], candles: Candles
) -> dict[str, Any]:
    found = evaluate(
        request.strategy, params, candles, request.settings, request.objective, min_trades=0
    )
    result = found.result
    return {
        "value": None if found.value is None else float(found.value),
        "total_return_pct": None if result is None else str(result.total_return_pct),
        "trades": None if result is None else result.trades,
        "buy_and_hold_return_pct": None if result is None else str(result.buy_and_hold_return_pct),
    }


def _prepare_study(url: str, name: str, request: SearchRequest, checked: Checked) -> None:
    """Create the study, or join an existing one that searches the same thing."""
    import optuna

    what = {
        "strategy": request.strategy,
        "objective": request.objective,
        "sampler": request.sampler,
        "space": [d.text() for d in checked.dims],
        "timeframe": request.settings.timeframe,
    }
    storage = open_storage(url)
    try:
        study = optuna.create_study(
            study_name=name, storage=storage, direction="maximize", load_if_exists=True
        )
        known = study.user_attrs.get("search")
        if known is None:
            study.set_user_attr("search", what)
        elif known != what:
            raise InvalidInput(
                f"Study {name!r} already searches {known['strategy']} {' '.join(known['space'])} "
                f"for {known['objective']} ({known['sampler']}, {known['timeframe']}): "
                "give the same search or another --study name.",
                field="study",
            )
    finally:
        storage.engine.dispose()
