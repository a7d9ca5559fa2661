"""the exchange's minimum order value (notional) per trading pair; paper wallets on an
exchange's real prices

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Orders under a pair's minimum order value are refused before they are sent (live) or filled
(paper), with the figure named; ccxt reports it as ``limits.cost.min``. A simulation wallet
with a ``paper_market`` trades on that exchange's public prices instead of the simulated market.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'trading_pairs',
        sa.Column('min_notional', sa.Numeric(precision=65, scale=30), nullable=True),
    )
    op.add_column('bot_wallets', sa.Column('paper_market', sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column('bot_wallets', 'paper_market')
    op.drop_column('trading_pairs', 'min_notional')
