"""indexes for the trade history's other sort orders (symbol, size, P&L)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22

The dashboard's trade history pages by keyset on (sort value, id). Time order walks the seed's
[user_id, executed_at DESC] indexes; these three make the other orders an index range too, so a
page of a million trades sorted by symbol, total or P&L doesn't sort them all.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_trades_user_id_symbol_id', 'trades', ['user_id', 'symbol', 'id'])
    op.create_index('ix_trades_user_id_total_id', 'trades', ['user_id', 'total', 'id'])
    op.execute(
        'CREATE INDEX ix_trades_user_id_pnl_id ON trades (user_id, coalesce(profit_loss, 0), id)'
    )


def downgrade() -> None:
    op.drop_index('ix_trades_user_id_pnl_id', table_name='trades')
    op.drop_index('ix_trades_user_id_total_id', table_name='trades')
    op.drop_index('ix_trades_user_id_symbol_id', table_name='trades')
