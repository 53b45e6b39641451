"""identity: an organisation can be closed (closed_at, closed_by)

Revision ID: 9d2c5e7a1b43
Revises: 6c1e8a4b2f90
Created: 2026-12-05 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9d2c5e7a1b43'
down_revision: str | None = '6c1e8a4b2f90'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'organisations', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column('organisations', sa.Column('closed_by', sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f('fk_organisations_closed_by_people'), 'organisations', 'people', ['closed_by'], ['id']
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f('fk_organisations_closed_by_people'), 'organisations', type_='foreignkey'
    )
    op.drop_column('organisations', 'closed_by')
    op.drop_column('organisations', 'closed_at')
