"""sandbox accounts: who opened each, so that only its opener can bind it

Revision ID: 3e6a9d1c4b57
Revises: 9c4a7e2f1b38
Created: 2026-12-04 11:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3e6a9d1c4b57'
down_revision: str | None = '9c4a7e2f1b38'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('sandbox_accounts', sa.Column('opened_by', sa.String(length=64), nullable=True))
    # An account bound today was opened by the person who bound it; the rest (brands,
    # creators) stay the platform's own.
    op.execute(
        """
        UPDATE sandbox_accounts AS s SET opened_by = p.person_id::text
        FROM platform_accounts AS p
        WHERE p.platform = 'sandbox' AND p.handle = s.handle
        """
    )


def downgrade() -> None:
    op.drop_column('sandbox_accounts', 'opened_by')
