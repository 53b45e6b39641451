"""evidence readings, feed exposures and hides

Revision ID: 8d201e5abdae
Revises: 5b1e9d7c3a48
Created: 2026-12-01 20:34:06.301881+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '8d201e5abdae'
down_revision: str | None = '5b1e9d7c3a48'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dispatch_feed_hides',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('ref', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('campaign', 'brand')", name=op.f('ck_dispatch_feed_hides_kind')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_dispatch_feed_hides_person_id_people')),
    sa.PrimaryKeyConstraint('person_id', 'kind', 'ref', name=op.f('pk_dispatch_feed_hides'))
    )
    op.create_table('evidence_readings',
    sa.Column('file_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), server_default='', nullable=False),
    sa.Column('lines', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'"), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('read', 'unreadable')", name=op.f('ck_evidence_readings_status')),
    sa.ForeignKeyConstraint(['file_id'], ['evidence_files.id'], name=op.f('fk_evidence_readings_file_id_evidence_files')),
    sa.PrimaryKeyConstraint('file_id', name=op.f('pk_evidence_readings'))
    )
    op.create_table('dispatch_exposures',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('shown_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_dispatch_exposures_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_dispatch_exposures_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_exposures'))
    )
    op.create_index('ix_dispatch_exposures_campaign', 'dispatch_exposures', ['campaign_id', 'shown_at'], unique=False)
    op.create_index('ix_dispatch_exposures_person', 'dispatch_exposures', ['person_id', 'shown_at'], unique=False)
    op.create_index('ix_assignments_claimed_at', 'assignments', ['claimed_at'], unique=False)
    op.create_index('ix_assignments_evidence_file', 'assignments', ['evidence_file_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_assignments_evidence_file', table_name='assignments')
    op.drop_index('ix_assignments_claimed_at', table_name='assignments')
    op.drop_index('ix_dispatch_exposures_person', table_name='dispatch_exposures')
    op.drop_index('ix_dispatch_exposures_campaign', table_name='dispatch_exposures')
    op.drop_table('dispatch_exposures')
    op.drop_table('evidence_readings')
    op.drop_table('dispatch_feed_hides')
