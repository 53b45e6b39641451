"""ledger: reconciliation and adjustments

Revision ID: 0fab0f48fe5c
Revises: b493a932b226
Created: 2026-11-22 16:47:35.396139+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = '0fab0f48fe5c'
down_revision: str | None = 'b493a932b226'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ledger_adjustments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('account_key', sa.String(length=120), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('approved_by', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=10), server_default=sa.text("'requested'"), nullable=False),
    sa.Column('transfer_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('requested', 'applied', 'rejected')", name=op.f('ck_ledger_adjustments_status')),
    sa.CheckConstraint('amount <> 0', name=op.f('ck_ledger_adjustments_amount_not_zero')),
    sa.CheckConstraint('approved_by IS NULL OR approved_by <> requested_by', name=op.f('ck_ledger_adjustments_four_eyes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_adjustments'))
    )
    op.create_table('ledger_reconciliation_reports',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('checked', sa.BigInteger(), nullable=False),
    sa.Column('differences', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_reconciliation_reports'))
    )
    op.create_table('sandbox_payments',
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_sandbox_payments'))
    )


def downgrade() -> None:
    op.drop_table('sandbox_payments')
    op.drop_table('ledger_reconciliation_reports')
    op.drop_table('ledger_adjustments')
