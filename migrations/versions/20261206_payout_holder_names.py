"""payout accounts keep the holder's name; the sandbox provider records it

Revision ID: d2f6a8c1e3b7
Revises: c4a7e9d2f5b8
Created: 2026-12-06 07:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd2f6a8c1e3b7'
down_revision: str | None = 'c4a7e9d2f5b8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('ledger_payout_accounts', 'ledger_org_payout_accounts', 'sandbox_payouts')


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column('holder_name', sa.String(length=60), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_column(table, 'holder_name')
