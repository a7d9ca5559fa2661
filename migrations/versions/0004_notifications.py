"""notification delivery bookkeeping and the Discord / push / SMS preference toggles

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

notifications: attempts, next_attempt_at, digest (+ index on delivered, next_attempt_at for the
delivery worker). notification_preferences: discord_enabled, discord_webhook_url (vault
ciphertext), discord_critical_only, push_enabled, sms_enabled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PREF_FLAGS = ('discord_enabled', 'discord_critical_only', 'push_enabled', 'sms_enabled')


def upgrade() -> None:
    op.add_column('notifications', sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.add_column('notifications', sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('notifications', sa.Column('digest', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_index(op.f('ix_notifications_delivered_next_attempt_at'), 'notifications', ['delivered', 'next_attempt_at'], unique=False)
    for name in _PREF_FLAGS:
        op.add_column('notification_preferences', sa.Column(name, sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('notification_preferences', sa.Column('discord_webhook_url', sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column('notification_preferences', 'discord_webhook_url')
    for name in reversed(_PREF_FLAGS):
        op.drop_column('notification_preferences', name)
    op.drop_index(op.f('ix_notifications_delivered_next_attempt_at'), table_name='notifications')
    op.drop_column('notifications', 'digest')
    op.drop_column('notifications', 'next_attempt_at')
    op.drop_column('notifications', 'attempts')
