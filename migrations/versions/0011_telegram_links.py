"""telegram_links: Telegram chats paired with accounts for Telegram control

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-02

One row per user: the hash of a pending one-time pairing code (shown in the Security screen,
sent to the bot as ``/start CODE``) and the chat it paired. A chat belongs to one account.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'telegram_links',
        sa.Column('id', sa.String(), nullable=False),
        sa.Column('user_id', sa.String(), nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=True),
        sa.Column('code_hash', sa.String(), nullable=True),
        sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('paired_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_telegram_links_user_id_users'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_telegram_links')),
        sa.UniqueConstraint('chat_id', name=op.f('uq_telegram_links_chat_id')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_telegram_links_code_hash')),
        sa.UniqueConstraint('user_id', name=op.f('uq_telegram_links_user_id')),
    )


def downgrade() -> None:
    op.drop_table('telegram_links')
