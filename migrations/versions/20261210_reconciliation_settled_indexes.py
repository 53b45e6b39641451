"""reconciliation also reads the top-ups, withdrawals and refunds settled of late, and the
refunds still under way, by indexes

Revision ID: f4c6e8a0b2d3
Revises: e3b5d7f9a1c2
Created: 2026-12-10 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'f4c6e8a0b2d3'
down_revision: str | None = 'e3b5d7f9a1c2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_ledger_deposits_paid_at', 'ledger_deposits', ['paid_at'])
    op.create_index('ix_ledger_withdrawals_updated_at', 'ledger_withdrawals', ['updated_at'])
    op.create_index('ix_ledger_refunds_updated_at', 'ledger_refunds', ['updated_at'])
    op.create_index(
        'ix_ledger_refunds_under_way',
        'ledger_refunds',
        ['status'],
        postgresql_where=sa.text("status IN ('requested', 'processing')"),
    )


def downgrade() -> None:
    op.drop_index('ix_ledger_refunds_under_way', table_name='ledger_refunds')
    op.drop_index('ix_ledger_refunds_updated_at', table_name='ledger_refunds')
    op.drop_index('ix_ledger_withdrawals_updated_at', table_name='ledger_withdrawals')
    op.drop_index('ix_ledger_deposits_paid_at', table_name='ledger_deposits')
