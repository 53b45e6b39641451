"""assignments keep the latest check in the hold

Revision ID: e3a7b9d2f4c8
Revises: d2f6a8c1e3b7
Created: 2026-12-06 08:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'e3a7b9d2f4c8'
down_revision: str | None = 'd2f6a8c1e3b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'assignments', sa.Column('hold_check', postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column(
        'assignments', sa.Column('hold_checked_at', sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column('assignments', 'hold_checked_at')
    op.drop_column('assignments', 'hold_check')
