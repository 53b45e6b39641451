"""insights: events told once each name what they report (source), for balance events

Revision ID: 6c1e8a4b2f90
Revises: 3b7d9e2f5a14
Created: 2026-12-05 11:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '6c1e8a4b2f90'
down_revision: str | None = '3b7d9e2f5a14'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('insight_events', sa.Column('source', sa.String(length=80), nullable=True))
    op.create_unique_constraint(op.f('uq_insight_events_source'), 'insight_events', ['source'])


def downgrade() -> None:
    op.drop_constraint(op.f('uq_insight_events_source'), 'insight_events', type_='unique')
    op.drop_column('insight_events', 'source')
