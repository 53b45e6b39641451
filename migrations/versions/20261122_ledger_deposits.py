"""ledger: deposits

Revision ID: 295ef6025e04
Revises: 9eacc1267f2b
Created: 2026-11-22 16:34:02.080508+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '295ef6025e04'
down_revision: str | None = '9eacc1267f2b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ledger_deposits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), server_default=sa.text("'created'"), nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('provider_txn', sa.String(length=80), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('created', 'paid', 'closed')", name=op.f('ck_ledger_deposits_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_deposits_amount_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_deposits'))
    )
    op.create_index(op.f('ix_ledger_deposits_org_id'), 'ledger_deposits', ['org_id'], unique=False)
    op.create_index('uq_ledger_deposits_key', 'ledger_deposits', ['requested_by', 'idempotency_key'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_ledger_deposits_key', table_name='ledger_deposits')
    op.drop_index(op.f('ix_ledger_deposits_org_id'), table_name='ledger_deposits')
    op.drop_table('ledger_deposits')
