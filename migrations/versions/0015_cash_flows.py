"""cash flows: money put into or taken out of a user's wallets, for time-weighted returns

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

A bot's starting cash made the portfolio's return jump as if it were profit. cash_flows records
each wallet's funding (and later: live balances re-read from the exchange, deleted bots' value)
so returns are time-weighted around them. Existing wallets are backfilled with their starting
cash at the wallet's creation.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'cash_flows',
        sa.Column('id', sa.String(), nullable=False),
        sa.Column('user_id', sa.String(), nullable=False),
        sa.Column('wallet_id', sa.String(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=65, scale=30), nullable=False),
        sa.Column('currency', sa.String(), nullable=False),
        sa.Column('reason', sa.String(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cash_flows_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cash_flows')),
    )
    op.create_index(op.f('ix_cash_flows_user_id_occurred_at'), 'cash_flows', ['user_id', 'occurred_at'])
    op.execute(
        "INSERT INTO cash_flows (id, user_id, wallet_id, amount, currency, reason, occurred_at) "
        "SELECT 'cf' || w.id, b.user_id, w.id, w.initial_balance, w.quote_currency, "
        "'starting balance', w.created_at "
        "FROM bot_wallets w JOIN bots b ON b.id = w.bot_id WHERE w.initial_balance > 0"
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_cash_flows_user_id_occurred_at'), table_name='cash_flows')
    op.drop_table('cash_flows')
