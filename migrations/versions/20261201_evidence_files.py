"""evidence: uploaded files and their hashes

Revision ID: e7b2d4f60a02
Revises: c3d5a8e1f001
Created: 2026-12-01 16:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e7b2d4f60a02'
down_revision: str | None = 'c3d5a8e1f001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('evidence_files',
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=5), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('byte_size', sa.BigInteger(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('phash', sa.BigInteger(), nullable=True),
    sa.Column('dhash', sa.BigInteger(), nullable=True),
    sa.Column('storage_key', sa.String(length=120), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('image', 'video')", name=op.f('ck_evidence_files_kind')),
    sa.CheckConstraint('byte_size > 0', name=op.f('ck_evidence_files_byte_size_positive')),
    sa.CheckConstraint("kind <> 'image' OR (width IS NOT NULL AND height IS NOT NULL AND phash IS NOT NULL AND dhash IS NOT NULL)", name=op.f('ck_evidence_files_image_described')),
    sa.ForeignKeyConstraint(['owner_id'], ['people.id'], name=op.f('fk_evidence_files_owner_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_files')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_evidence_files_storage_key'))
    )
    op.create_index(op.f('ix_evidence_files_owner_id'), 'evidence_files', ['owner_id'], unique=False)
    op.create_index(op.f('ix_evidence_files_sha256'), 'evidence_files', ['sha256'], unique=False)
    op.create_index(op.f('ix_evidence_files_phash'), 'evidence_files', ['phash'], unique=False)
    op.create_index(op.f('ix_evidence_files_dhash'), 'evidence_files', ['dhash'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_evidence_files_dhash'), table_name='evidence_files')
    op.drop_index(op.f('ix_evidence_files_phash'), table_name='evidence_files')
    op.drop_index(op.f('ix_evidence_files_sha256'), table_name='evidence_files')
    op.drop_index(op.f('ix_evidence_files_owner_id'), table_name='evidence_files')
    op.drop_table('evidence_files')
