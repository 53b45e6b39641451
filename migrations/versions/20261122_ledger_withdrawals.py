"""ledger: wallets, payout accounts and withdrawals

Revision ID: b493a932b226
Revises: 295ef6025e04
Created: 2026-11-22 16:39:25.201004+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = 'b493a932b226'
down_revision: str | None = '295ef6025e04'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ledger_payout_accounts',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('masked', sa.String(length=40), nullable=False),
    sa.Column('account_hash', sa.String(length=64), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('alipay', 'bank')", name=op.f('ck_ledger_payout_accounts_kind')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_ledger_payout_accounts'))
    )
    op.create_index(op.f('ix_ledger_payout_accounts_account_hash'), 'ledger_payout_accounts', ['account_hash'], unique=False)
    op.create_table('ledger_withdrawals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('fee', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('approvals_needed', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('review_reasons', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('payout_reservation_id', sa.BigInteger(), nullable=False),
    sa.Column('fee_reservation_id', sa.BigInteger(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('provider_ref', sa.String(length=80), nullable=True),
    sa.Column('failure_reason', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('requested', 'approved', 'processing', 'paid', 'failed', 'rejected')", name=op.f('ck_ledger_withdrawals_status')),
    sa.CheckConstraint('amount > 0 AND fee >= 0 AND fee < amount', name=op.f('ck_ledger_withdrawals_amounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_withdrawals'))
    )
    op.create_index(op.f('ix_ledger_withdrawals_person_id'), 'ledger_withdrawals', ['person_id'], unique=False)
    op.create_index('ix_ledger_withdrawals_status', 'ledger_withdrawals', ['status', 'updated_at'], unique=False)
    op.create_index('uq_ledger_withdrawals_key', 'ledger_withdrawals', ['person_id', 'idempotency_key'], unique=True)
    op.create_table('sandbox_payouts',
    sa.Column('payout_id', sa.String(length=64), nullable=False),
    sa.Column('account_number', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('payout_id', name=op.f('pk_sandbox_payouts'))
    )
    op.create_table('ledger_withdrawal_approvals',
    sa.Column('withdrawal_id', sa.Uuid(), nullable=False),
    sa.Column('operator_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['withdrawal_id'], ['ledger_withdrawals.id'], name=op.f('fk_ledger_withdrawal_approvals_withdrawal_id_ledger_withdrawals')),
    sa.PrimaryKeyConstraint('withdrawal_id', 'operator_id', name=op.f('pk_ledger_withdrawal_approvals'))
    )


def downgrade() -> None:
    op.drop_table('ledger_withdrawal_approvals')
    op.drop_table('sandbox_payouts')
    op.drop_index('uq_ledger_withdrawals_key', table_name='ledger_withdrawals')
    op.drop_index('ix_ledger_withdrawals_status', table_name='ledger_withdrawals')
    op.drop_index(op.f('ix_ledger_withdrawals_person_id'), table_name='ledger_withdrawals')
    op.drop_table('ledger_withdrawals')
    op.drop_index(op.f('ix_ledger_payout_accounts_account_hash'), table_name='ledger_payout_accounts')
    op.drop_table('ledger_payout_accounts')
