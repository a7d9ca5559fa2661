"""ledger: order idempotency and wallet columns, exact position cost basis

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

orders gain the client order id sent to the exchange (unique: a retry can never place a second
order), the exchange's order id, the paying wallet, paper/live, the stop price of stop-loss and
take-profit orders, the funds reserved while an order rests and the reason a failed order failed.
positions gain cost_basis, the exact cost of the quantity still held.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=65, scale=30)


def upgrade() -> None:
    op.add_column('orders', sa.Column('client_order_id', sa.String(), nullable=True))
    op.add_column('orders', sa.Column('exchange_order_id', sa.String(), nullable=True))
    op.add_column('orders', sa.Column('wallet_id', sa.String(), nullable=True))
    op.add_column('orders', sa.Column('is_paper', sa.Boolean(), server_default=sa.text('true'), nullable=False))
    op.add_column('orders', sa.Column('stop_price', MONEY, nullable=True))
    op.add_column('orders', sa.Column('reserved', MONEY, server_default='0', nullable=False))
    op.add_column('orders', sa.Column('error', sa.String(), nullable=True))
    op.create_unique_constraint(op.f('uq_orders_client_order_id'), 'orders', ['client_order_id'])
    op.create_foreign_key(
        op.f('fk_orders_wallet_id_bot_wallets'), 'orders', 'bot_wallets',
        ['wallet_id'], ['id'], ondelete='SET NULL',
    )
    op.add_column('positions', sa.Column('cost_basis', MONEY, server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('positions', 'cost_basis')
    op.drop_constraint(op.f('fk_orders_wallet_id_bot_wallets'), 'orders', type_='foreignkey')
    op.drop_constraint(op.f('uq_orders_client_order_id'), 'orders', type_='unique')
    for column in ('error', 'reserved', 'stop_price', 'is_paper', 'wallet_id', 'exchange_order_id', 'client_order_id'):
        op.drop_column('orders', column)
