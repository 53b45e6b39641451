"""gold items for reviewer accuracy

Revision ID: 3f923fbc458c
Revises: 1d61cd775404
Created: 2026-12-01 17:22:55.351082+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3f923fbc458c'
down_revision: str | None = '1d61cd775404'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('gold_items',
    sa.Column('source_assignment_id', sa.Uuid(), nullable=False),
    sa.Column('expected_approve', sa.Boolean(), nullable=False),
    sa.Column('expected_reason', sa.String(length=40), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['people.id'], name=op.f('fk_gold_items_created_by_people')),
    sa.ForeignKeyConstraint(['source_assignment_id'], ['assignments.id'], name=op.f('fk_gold_items_source_assignment_id_assignments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gold_items'))
    )
    op.create_index('uq_gold_items_source', 'gold_items', ['source_assignment_id'], unique=True)
    op.create_table('gold_answers',
    sa.Column('gold_item_id', sa.Uuid(), nullable=False),
    sa.Column('reviewer_id', sa.Uuid(), nullable=False),
    sa.Column('approve', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('correct', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['gold_item_id'], ['gold_items.id'], name=op.f('fk_gold_answers_gold_item_id_gold_items')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['people.id'], name=op.f('fk_gold_answers_reviewer_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gold_answers'))
    )
    op.create_index(op.f('ix_gold_answers_reviewer_id'), 'gold_answers', ['reviewer_id'], unique=False)
    op.create_index('uq_gold_answers_once', 'gold_answers', ['gold_item_id', 'reviewer_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_gold_answers_once', table_name='gold_answers')
    op.drop_index(op.f('ix_gold_answers_reviewer_id'), table_name='gold_answers')
    op.drop_table('gold_answers')
    op.drop_index('uq_gold_items_source', table_name='gold_items')
    op.drop_table('gold_items')
