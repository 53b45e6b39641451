"""ledger: accounts and transfers

Revision ID: cadde027e8be
Revises: ed2f2fc0e811
Created: 2026-11-22 16:24:02.381332+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision: str = 'cadde027e8be'
down_revision: str | None = 'ed2f2fc0e811'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ledger_accounts',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('asset', sa.String(length=3), nullable=False),
    sa.Column('no_overdraft', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('no_credit_beyond_debits', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('debits_posted', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('credits_posted', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('debits_pending', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('credits_pending', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("asset IN ('CNY', 'PTS')", name=op.f('ck_ledger_accounts_asset')),
    sa.CheckConstraint('NOT no_credit_beyond_debits OR credits_posted + credits_pending <= debits_posted', name=op.f('ck_ledger_accounts_no_credit_beyond_debits')),
    sa.CheckConstraint('NOT no_overdraft OR debits_posted + debits_pending <= credits_posted', name=op.f('ck_ledger_accounts_no_overdraft')),
    sa.CheckConstraint('debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0', name=op.f('ck_ledger_accounts_totals_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_accounts')),
    sa.UniqueConstraint('key', name=op.f('uq_ledger_accounts_key'))
    )
    op.create_table('ledger_transfers',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('debit_account_id', sa.BigInteger(), nullable=False),
    sa.Column('credit_account_id', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('asset', sa.String(length=3), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('pending_id', sa.BigInteger(), nullable=True),
    sa.Column('linked_id', sa.Uuid(), nullable=True),
    sa.Column('timeout_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('meta', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind IN ('post', 'void')) = (pending_id IS NOT NULL)", name=op.f('ck_ledger_transfers_resolution_has_pending')),
    sa.CheckConstraint("kind IN ('single', 'pending', 'post', 'void')", name=op.f('ck_ledger_transfers_kind')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_transfers_amount_positive')),
    sa.CheckConstraint('debit_account_id <> credit_account_id', name=op.f('ck_ledger_transfers_distinct_accounts')),
    sa.ForeignKeyConstraint(['credit_account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_transfers_credit_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['debit_account_id'], ['ledger_accounts.id'], name=op.f('fk_ledger_transfers_debit_account_id_ledger_accounts')),
    sa.ForeignKeyConstraint(['pending_id'], ['ledger_transfers.id'], name=op.f('fk_ledger_transfers_pending_id_ledger_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transfers')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_transfers_idempotency_key'))
    )
    op.create_index('ix_ledger_transfers_credit', 'ledger_transfers', ['credit_account_id', 'id'], unique=False)
    op.create_index('ix_ledger_transfers_debit', 'ledger_transfers', ['debit_account_id', 'id'], unique=False)
    op.create_index('ix_ledger_transfers_open_timeouts', 'ledger_transfers', ['timeout_at'], unique=False, postgresql_where=sa.text("kind = 'pending' AND timeout_at IS NOT NULL"))
    op.create_index('uq_ledger_transfers_resolution', 'ledger_transfers', ['pending_id'], unique=True, postgresql_where=sa.text('pending_id IS NOT NULL'))
    # Transfers are immutable: the database refuses to change or delete one.
    op.execute(
        """
        CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER ledger_transfers_immutable BEFORE UPDATE OR DELETE ON ledger_transfers "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS ledger_transfers_no_truncate ON ledger_transfers")
    op.execute("DROP TRIGGER IF EXISTS ledger_transfers_immutable ON ledger_transfers")
    op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
    op.drop_index('uq_ledger_transfers_resolution', table_name='ledger_transfers', postgresql_where=sa.text('pending_id IS NOT NULL'))
    op.drop_index('ix_ledger_transfers_open_timeouts', table_name='ledger_transfers', postgresql_where=sa.text("kind = 'pending' AND timeout_at IS NOT NULL"))
    op.drop_index('ix_ledger_transfers_debit', table_name='ledger_transfers')
    op.drop_index('ix_ledger_transfers_credit', table_name='ledger_transfers')
    op.drop_table('ledger_transfers')
    op.drop_table('ledger_accounts')
