"""risk events

Revision ID: b5d753979087
Revises: 8d201e5abdae
Created: 2026-12-01 21:06:24.690852+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = 'b5d753979087'
down_revision: str | None = '8d201e5abdae'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('risk_events',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('event', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('decision', sa.String(length=6), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_events'))
    )
    op.create_index('ix_risk_events_account', 'risk_events', ['account', 'id'], unique=False)
    op.create_index('ix_risk_events_recorded_at', 'risk_events', ['recorded_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_risk_events_recorded_at', table_name='risk_events')
    op.drop_index('ix_risk_events_account', table_name='risk_events')
    op.drop_table('risk_events')
