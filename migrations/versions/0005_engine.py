"""engine: bot leases, error state and strategy state; engine processes; daily HOLD aggregates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23

bots gain the lease of the engine process running a cycle (lease_owner, lease_until), the
failure count and message behind the error state (error_count, last_error), the back-off of a bot
whose exchange is out (backoff_until) and the strategy state that must survive a restart
(engine_state: grid orders, DCA ladder, the candle last acted on). engine_processes is the
registry of running engines with their heartbeat and figures; execution_daily holds the per-bot,
per-day counts old HOLD executions are folded into by the retention job.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('bots', sa.Column('lease_owner', sa.String(), nullable=True))
    op.add_column('bots', sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('bots', sa.Column('error_count', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.add_column('bots', sa.Column('last_error', sa.String(), nullable=True))
    op.add_column('bots', sa.Column('backoff_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('bots', sa.Column('engine_state', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_table(
        'engine_processes',
        sa.Column('id', sa.String(), nullable=False),
        sa.Column('host', sa.String(), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('version', sa.String(), nullable=False),
        sa.Column('embedded', sa.Boolean(), server_default=sa.text('false'), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('bots_leased', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('cycles_total', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
        sa.Column('cycles_per_second', sa.Float(), server_default=sa.text('0'), nullable=False),
        sa.Column('latency_p50_ms', sa.Float(), nullable=True),
        sa.Column('latency_p99_ms', sa.Float(), nullable=True),
        sa.Column('errors_last_hour', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('last_error', sa.String(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_engine_processes')),
    )
    op.create_index(op.f('ix_engine_processes_heartbeat_at'), 'engine_processes', ['heartbeat_at'], unique=False)
    op.create_table(
        'execution_daily',
        sa.Column('id', sa.String(), nullable=False),
        sa.Column('bot_id', sa.String(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('holds', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('errors', sa.Integer(), server_default=sa.text('0'), nullable=False),
        sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bot_id'], ['bots.id'], name=op.f('fk_execution_daily_bot_id_bots'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_execution_daily')),
        sa.UniqueConstraint('bot_id', 'day', name=op.f('uq_execution_daily_bot_id_day')),
    )


def downgrade() -> None:
    op.drop_table('execution_daily')
    op.drop_index(op.f('ix_engine_processes_heartbeat_at'), table_name='engine_processes')
    op.drop_table('engine_processes')
    for column in ('engine_state', 'backoff_until', 'last_error', 'error_count', 'lease_until', 'lease_owner'):
        op.drop_column('bots', column)
