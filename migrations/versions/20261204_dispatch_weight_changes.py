"""dispatch weight changes

Revision ID: 5b8e1d4c7a20
Revises: 7d3f0b6e9c15
Created: 2026-12-04 06:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5b8e1d4c7a20'
down_revision: str | None = '7d3f0b6e9c15'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dispatch_weight_changes',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('weights', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('changed_by', sa.Uuid(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by'], ['people.id'], name=op.f('fk_dispatch_weight_changes_changed_by_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_weight_changes'))
    )


def downgrade() -> None:
    op.drop_table('dispatch_weight_changes')
