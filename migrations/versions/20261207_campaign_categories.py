"""campaigns say what their target is about (one of the interests people choose from)

Revision ID: c7e1f3a5b9d2
Revises: b6d0e2f4a8c1
Created: 2026-12-07 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c7e1f3a5b9d2'
down_revision: str | None = 'b6d0e2f4a8c1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('campaigns', sa.Column('category', sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.drop_column('campaigns', 'category')
