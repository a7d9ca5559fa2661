"""exchange candles in historical_datasets; users' fee tiers

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

The engine keeps the candles it fetches from an exchange in ``historical_datasets`` (one row per
exchange, symbol and timeframe, ``exchange`` set), so engines share them and a restart reuses
them. ``fee_tiers``: a user's own maker/taker fees on an exchange, for paper fills there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("historical_datasets", sa.Column("exchange", sa.String(), nullable=True))
    op.create_index(
        "uq_historical_datasets_exchange_window",
        "historical_datasets",
        ["exchange", "symbol", "timeframe"],
        unique=True,
        postgresql_where=sa.text("exchange IS NOT NULL"),
    )
    op.create_table(
        "fee_tiers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("exchange", sa.String(), nullable=False),
        sa.Column("maker_fee", sa.Numeric(65, 30), nullable=True),
        sa.Column("taker_fee", sa.Numeric(65, 30), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_fee_tiers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_tiers")),
        sa.UniqueConstraint("user_id", "exchange", name=op.f("uq_fee_tiers_user_id_exchange")),
    )
    op.create_index(op.f("ix_fee_tiers_user_id"), "fee_tiers", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_fee_tiers_user_id"), table_name="fee_tiers")
    op.drop_table("fee_tiers")
    op.drop_index("uq_historical_datasets_exchange_window", table_name="historical_datasets")
    op.drop_column("historical_datasets", "exchange")
