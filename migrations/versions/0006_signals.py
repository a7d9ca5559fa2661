"""signal providers owned by users, signals deduplicated by the provider's id, a replay cache

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

signal_providers.user_id (nullable: NULL is a system provider; FK users CASCADE, indexed).
signals.external_id with a unique (provider_id, external_id): a re-polled or redelivered signal
is stored once. signal_nonces: signatures of accepted webhook requests until they expire, shared
by every receiver process so a replay is refused by all of them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('signal_providers', sa.Column('user_id', sa.String(), nullable=True))
    op.create_index(op.f('ix_signal_providers_user_id'), 'signal_providers', ['user_id'], unique=False)
    op.create_foreign_key(
        op.f('fk_signal_providers_user_id_users'), 'signal_providers', 'users', ['user_id'], ['id'],
        ondelete='CASCADE',
    )
    op.add_column('signals', sa.Column('external_id', sa.String(), nullable=True))
    op.create_unique_constraint(
        op.f('uq_signals_provider_id_external_id'), 'signals', ['provider_id', 'external_id']
    )
    op.create_table(
        'signal_nonces',
        sa.Column('id', sa.String(), nullable=False),
        sa.Column('provider_id', sa.String(), nullable=False),
        sa.Column('nonce', sa.String(), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(
            ['provider_id'], ['signal_providers.id'],
            name=op.f('fk_signal_nonces_provider_id_signal_providers'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signal_nonces')),
        sa.UniqueConstraint('provider_id', 'nonce', name=op.f('uq_signal_nonces_provider_id_nonce')),
    )
    op.create_index(op.f('ix_signal_nonces_expires_at'), 'signal_nonces', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_signal_nonces_expires_at'), table_name='signal_nonces')
    op.drop_table('signal_nonces')
    op.drop_constraint(op.f('uq_signals_provider_id_external_id'), 'signals', type_='unique')
    op.drop_column('signals', 'external_id')
    op.drop_constraint(op.f('fk_signal_providers_user_id_users'), 'signal_providers', type_='foreignkey')
    op.drop_index(op.f('ix_signal_providers_user_id'), table_name='signal_providers')
    op.drop_column('signal_providers', 'user_id')
