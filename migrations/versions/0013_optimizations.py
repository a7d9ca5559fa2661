"""optimizations: the summaries of blockbotx optimize runs

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-02

Optuna keeps its studies and trials in tables of its own, in the schema ``optuna`` (created by
``core.optimize.storage`` on first use, outside alembic). This table holds what the dashboard
shows of each run: best trials, parameter importance, out-of-sample results.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "optimizations",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=True),
        sa.Column("study_name", sa.String(), nullable=False),
        sa.Column("strategy", sa.String(), nullable=False),
        sa.Column("objective", sa.String(), nullable=False),
        sa.Column("timeframe", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_optimizations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_optimizations")),
    )
    op.create_index(
        op.f("ix_optimizations_user_id_created_at"), "optimizations", ["user_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_optimizations_user_id_created_at"), table_name="optimizations")
    op.drop_table("optimizations")
