"""campaigns: the quality-task plan (quality_plan)

Revision ID: b8e2d4f6a1c3
Revises: 9d2c5e7a1b43
Created: 2026-12-05 18:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b8e2d4f6a1c3'
down_revision: str | None = '9d2c5e7a1b43'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the table.
    op.add_column(
        'campaigns',
        sa.Column('quality_plan', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    )


def downgrade() -> None:
    op.drop_column('campaigns', 'quality_plan')
