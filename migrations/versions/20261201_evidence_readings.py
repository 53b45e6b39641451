"""evidence readings and the assignment evidence index

Revision ID: ecc9805fa683
Revises: 3f923fbc458c
Created: 2026-12-01 20:26:50.286411+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = 'ecc9805fa683'
down_revision: str | None = '3f923fbc458c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
    op.create_index('ix_assignments_evidence_file', 'assignments', ['evidence_file_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_assignments_evidence_file', table_name='assignments')
    op.drop_table('evidence_readings')
