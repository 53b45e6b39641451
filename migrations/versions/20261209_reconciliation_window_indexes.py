"""reconciliation reads the top-ups, withdrawals and refunds of its window by their start

Revision ID: e3b5d7f9a1c2
Revises: d2a4c6e8f0b1
Created: 2026-12-09 09:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'e3b5d7f9a1c2'
down_revision: str | None = 'd2a4c6e8f0b1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('ledger_deposits', 'ledger_withdrawals', 'ledger_refunds')


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f'ix_{table}_created_at', table, ['created_at'])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f'ix_{table}_created_at', table_name=table)
