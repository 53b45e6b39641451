"""risk events, cases and labels

Revision ID: 86052361af0a
Revises: 8d201e5abdae
Created: 2026-12-01 21:37:29.267374+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '86052361af0a'
down_revision: str | None = '8d201e5abdae'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('risk_cases',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('group_key', sa.String(length=64), nullable=False),
    sa.Column('accounts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reasons', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('links', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='open', nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status IN ('open', 'confirmed', 'cleared')", name=op.f('ck_risk_cases_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_cases')),
    sa.UniqueConstraint('group_key', name=op.f('uq_risk_cases_group_key'))
    )
    op.create_index('ix_risk_cases_status', 'risk_cases', ['status', 'score'], unique=False)
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
    op.create_table('risk_labels',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('is_fraud', sa.Boolean(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('labelled_by', sa.Uuid(), nullable=False),
    sa.Column('labelled_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['risk_cases.id'], name=op.f('fk_risk_labels_case_id_risk_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_labels'))
    )
    op.create_index(op.f('ix_risk_labels_account'), 'risk_labels', ['account'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_risk_labels_account'), table_name='risk_labels')
    op.drop_table('risk_labels')
    op.drop_index('ix_risk_events_recorded_at', table_name='risk_events')
    op.drop_index('ix_risk_events_account', table_name='risk_events')
    op.drop_table('risk_events')
    op.drop_index('ix_risk_cases_status', table_name='risk_cases')
    op.drop_table('risk_cases')
