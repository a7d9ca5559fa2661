"""engine processes report their stale prices

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

Streamed prices can stop; the engine screen names every symbol a process has no fresh price for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'engine_processes', sa.Column('stale_prices', postgresql.ARRAY(sa.String()), nullable=True)
    )


def downgrade() -> None:
    op.drop_column('engine_processes', 'stale_prices')
