"""the sweep that closes top-ups left unpaid finds them by an index of the waiting ones

Revision ID: d2a4c6e8f0b1
Revises: c7e1f3a5b9d2
Created: 2026-12-08 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd2a4c6e8f0b1'
down_revision: str | None = 'c7e1f3a5b9d2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_ledger_deposits_unpaid',
        'ledger_deposits',
        ['created_at'],
        postgresql_where=sa.text("status = 'created'"),
    )


def downgrade() -> None:
    op.drop_index('ix_ledger_deposits_unpaid', table_name='ledger_deposits')
