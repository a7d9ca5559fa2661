"""Optimisation runs (``blockbotx optimize``) as the dashboard reads them.

A run is stored by the command line (the operator): under a user's account with ``--user``,
or without an owner, for administrators. A user sees their own runs; an administrator also
sees the owner-less ones; nobody sees another user's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.bots import Optimization
from core.db.models.users import User
from core.errors import NotFound
from core.services.accounts import normalize_email
from core.services.actor import Actor


@dataclass(frozen=True, slots=True)
class OptimizationSummary:
    id: str
    created_at: datetime
    study_name: str
    strategy: str
    objective: str
    timeframe: str
    source: str
    best_params: dict[str, Any] | None
    best_value: float | None
    oos_value: float | None  # the objective on the last window's out-of-sample candles
    trials: int


@dataclass(frozen=True, slots=True)
class OptimizationRecord:
    summary: OptimizationSummary
    detail: dict[str, Any]  # ``SearchReport.as_json()`` (the best trials only)


def _summary(row: Optimization) -> OptimizationSummary:
    data = row.summary
    best = data.get("best") or {}
    oos = data.get("out_of_sample") or {}
    return OptimizationSummary(
        row.id,
        row.created_at,
        row.study_name,
        row.strategy,
        row.objective,
        row.timeframe,
        row.source,
        best.get("params"),
        best.get("value"),
        oos.get("value"),
        int(data.get("trial_count") or len(data.get("trials") or [])),
    )


def _visible(actor: Actor) -> Any:
    mine = Optimization.user_id == actor.user_id
    return or_(mine, Optimization.user_id.is_(None)) if actor.is_admin else mine


async def owner_id(session: AsyncSession, email: str) -> str:
    """The account an operator stores a run under (``--user EMAIL``)."""
    user_id = await session.scalar(select(User.id).where(User.email == normalize_email(email)))
    if user_id is None:
        raise NotFound(f"No account with the email {email!r}.")
    return str(user_id)


async def record_optimization(
    session: AsyncSession,
    owner: Actor | None,
    report: dict[str, Any],
    source: str,
    keep_trials: int = 20,
) -> str:
    """Store a run's report (its best ``keep_trials`` trials) under ``owner``'s account, or
    for administrators when None (the operator's command line has database access and no
    logged-in user); returns the new id."""
    kept = {
        **report,
        "trials": report["trials"][:keep_trials],
        "trial_count": len(report["trials"]),
    }
    row = Optimization(
        user_id=None if owner is None else owner.user_id,
        study_name=report["study"],
        strategy=report["strategy"],
        objective=report["objective"],
        timeframe=report["timeframe"],
        source=source,
        summary=kept,
    )
    session.add(row)
    await session.commit()
    return str(row.id)


async def list_optimizations(
    session: AsyncSession, actor: Actor, *, limit: int = 100
) -> list[OptimizationSummary]:
    """The runs the actor may see, newest first."""
    rows = await session.scalars(
        select(Optimization)
        .where(_visible(actor))
        .order_by(Optimization.created_at.desc(), Optimization.id)
        .limit(max(1, min(limit, 500)))
    )
    return [_summary(r) for r in rows.all()]


async def get_optimization(
    session: AsyncSession, actor: Actor, optimization_id: str
) -> OptimizationRecord:
    row = await session.scalar(
        select(Optimization).where(Optimization.id == optimization_id, _visible(actor))
    )
    if row is None:
        raise NotFound(f"No optimisation {optimization_id!r}.")
    return OptimizationRecord(_summary(row), dict(row.summary))
