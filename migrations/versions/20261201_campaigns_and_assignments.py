"""campaigns and assignments

Revision ID: 1d61cd775404
Revises: d2f6b8a1c305
Created: 2026-12-01 17:09:07.511603+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '1d61cd775404'
down_revision: str | None = 'd2f6b8a1c305'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=80), nullable=False),
    sa.Column('task_type', sa.String(length=20), nullable=False),
    sa.Column('platform', sa.String(length=20), nullable=False),
    sa.Column('target_kind', sa.String(length=20), nullable=False),
    sa.Column('target_ref', sa.String(length=80), nullable=False),
    sa.Column('target_title', sa.String(length=120), nullable=False),
    sa.Column('target_url', sa.String(length=300), nullable=False),
    sa.Column('brief', sa.Text(), nullable=False),
    sa.Column('disclosure', sa.String(length=200), nullable=False),
    sa.Column('comment_guidance', sa.Text(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('reward', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('per_person_limit', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('regions', sa.ARRAY(sa.String(length=20)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('interests', sa.ARRAY(sa.String(length=20)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('tiers', sa.ARRAY(sa.String(length=20)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('pacing_per_hour', sa.Integer(), nullable=True),
    sa.Column('min_watch_seconds', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('min_stay_seconds', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('review_policy', sa.String(length=24), server_default=sa.text("'auto_when_verified'"), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'draft'"), nullable=False),
    sa.Column('compliance', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('funding_round', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('units_open', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('units_done', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("review_policy IN ('auto_when_verified', 'manual')", name=op.f('ck_campaigns_review_policy')),
    sa.CheckConstraint("status IN ('draft', 'pending_approval', 'live', 'paused', 'rejected', 'closed')", name=op.f('ck_campaigns_status')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_campaigns_window')),
    sa.CheckConstraint('per_person_limit >= 1', name=op.f('ck_campaigns_per_person_limit')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_campaigns_quantity_positive')),
    sa.CheckConstraint('reward + fee = unit_price', name=op.f('ck_campaigns_price_split')),
    sa.CheckConstraint('unit_price > 0 AND reward > 0 AND fee >= 0', name=op.f('ck_campaigns_prices')),
    sa.CheckConstraint('units_open >= 0 AND units_done >= 0 AND units_open + units_done <= quantity', name=op.f('ck_campaigns_units_within_quantity')),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_campaigns_created_by_people')),
    sa.ForeignKeyConstraint(['decided_by'], ['people.id'], name=op.f('fk_campaigns_decided_by_people')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_campaigns_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_index(op.f('ix_campaigns_org_id'), 'campaigns', ['org_id'], unique=False)
    op.create_index('ix_campaigns_status', 'campaigns', ['status'], unique=False)
    op.create_index('ix_campaigns_target', 'campaigns', ['platform', 'target_kind', 'target_ref'], unique=False)
    op.create_table('assignments',
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('actor_handle', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'claimed'"), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reward_reservation', sa.BigInteger(), nullable=False),
    sa.Column('fee_reservation', sa.BigInteger(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evidence_file_id', sa.Uuid(), nullable=True),
    sa.Column('evidence_link', sa.String(length=300), nullable=True),
    sa.Column('evidence_note', sa.String(length=500), nullable=True),
    sa.Column('verification', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('risk_score', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('risk_reasons', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('reviewed_by', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_reason', sa.String(length=40), nullable=True),
    sa.Column('review_note', sa.String(length=500), nullable=True),
    sa.Column('hold_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('settle_reason', sa.String(length=40), nullable=True),
    sa.Column('disputed_from', sa.String(length=20), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("disputed_from IS NULL OR disputed_from IN ('rejected', 'approved')", name=op.f('ck_assignments_disputed_from')),
    sa.CheckConstraint("status IN ('claimed', 'submitted', 'approved', 'released', 'clawed_back', 'rejected', 'expired', 'disputed')", name=op.f('ck_assignments_status')),
    sa.CheckConstraint('reviewed_by IS NULL OR reviewed_by <> person_id', name=op.f('ck_assignments_not_own_review')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_assignments_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['evidence_file_id'], ['evidence_files.id'], name=op.f('fk_assignments_evidence_file_id_evidence_files')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_assignments_person_id_people')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['people.id'], name=op.f('fk_assignments_reviewed_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    op.create_index(op.f('ix_assignments_campaign_id'), 'assignments', ['campaign_id'], unique=False)
    op.create_index('ix_assignments_expiry', 'assignments', ['status', 'expires_at'], unique=False)
    op.create_index('ix_assignments_hold', 'assignments', ['status', 'hold_until'], unique=False)
    op.create_index(op.f('ix_assignments_person_id'), 'assignments', ['person_id'], unique=False)
    op.create_index('ix_assignments_queue', 'assignments', ['status', 'risk_score', 'submitted_at'], unique=False)
    op.create_table('disputes',
    sa.Column('assignment_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('raised_by', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=10), server_default=sa.text("'open'"), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('appeal', 'contest')", name=op.f('ck_disputes_kind')),
    sa.CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name=op.f('ck_disputes_status')),
    sa.CheckConstraint('decided_by IS NULL OR decided_by <> raised_by', name=op.f('ck_disputes_not_own_decision')),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], name=op.f('fk_disputes_assignment_id_assignments')),
    sa.ForeignKeyConstraint(['decided_by'], ['people.id'], name=op.f('fk_disputes_decided_by_people')),
    sa.ForeignKeyConstraint(['raised_by'], ['people.id'], name=op.f('fk_disputes_raised_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    op.create_index(op.f('ix_disputes_assignment_id'), 'disputes', ['assignment_id'], unique=False)
    op.create_index('uq_disputes_one_open', 'disputes', ['assignment_id'], unique=True, postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index('uq_disputes_one_open', table_name='disputes', postgresql_where=sa.text("status = 'open'"))
    op.drop_index(op.f('ix_disputes_assignment_id'), table_name='disputes')
    op.drop_table('disputes')
    op.drop_index('ix_assignments_queue', table_name='assignments')
    op.drop_index(op.f('ix_assignments_person_id'), table_name='assignments')
    op.drop_index('ix_assignments_hold', table_name='assignments')
    op.drop_index('ix_assignments_expiry', table_name='assignments')
    op.drop_index(op.f('ix_assignments_campaign_id'), table_name='assignments')
    op.drop_table('assignments')
    op.drop_index('ix_campaigns_target', table_name='campaigns')
    op.drop_index('ix_campaigns_status', table_name='campaigns')
    op.drop_index(op.f('ix_campaigns_org_id'), table_name='campaigns')
    op.drop_table('campaigns')
