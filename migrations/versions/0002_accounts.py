"""accounts: session rotation chain and revocation, TOTP replay guard

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

sessions: parent_id (the row a rotated session replaced; SET NULL on delete), revoked_at,
revoked_reason, last_used_at. two_factor_auth: last_used_step (the last
accepted TOTP time step, so a code is never accepted twice).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('sessions', sa.Column('parent_id', sa.String(), nullable=True))
    op.add_column('sessions', sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('sessions', sa.Column('revoked_reason', sa.String(), nullable=True))
    op.add_column('sessions', sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    op.create_foreign_key(
        op.f('fk_sessions_parent_id_sessions'), 'sessions', 'sessions', ['parent_id'], ['id'],
        ondelete='SET NULL',
    )
    op.add_column('two_factor_auth', sa.Column('last_used_step', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('two_factor_auth', 'last_used_step')
    op.drop_constraint(op.f('fk_sessions_parent_id_sessions'), 'sessions', type_='foreignkey')
    op.drop_column('sessions', 'last_used_at')
    op.drop_column('sessions', 'revoked_reason')
    op.drop_column('sessions', 'revoked_at')
    op.drop_column('sessions', 'parent_id')
