"""ledger: refunds

Revision ID: 7faea5f638ea
Revises: 0fab0f48fe5c
Created: 2026-11-22 16:56:42.033216+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7faea5f638ea'
down_revision: str | None = '0fab0f48fe5c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sandbox_refunds',
    sa.Column('refund_id', sa.String(length=64), nullable=False),
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('refund_id', name=op.f('pk_sandbox_refunds'))
    )
    op.create_index(op.f('ix_sandbox_refunds_order_id'), 'sandbox_refunds', ['order_id'], unique=False)
    op.create_table('ledger_refunds',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('deposit_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.Uuid(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('reservation_id', sa.BigInteger(), nullable=False),
    sa.Column('provider_ref', sa.String(length=80), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('requested', 'processing', 'refunded', 'failed')", name=op.f('ck_ledger_refunds_status')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['deposit_id'], ['ledger_deposits.id'], name=op.f('fk_ledger_refunds_deposit_id_ledger_deposits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_refunds'))
    )
    op.create_index(op.f('ix_ledger_refunds_deposit_id'), 'ledger_refunds', ['deposit_id'], unique=False)
    op.create_index(op.f('ix_ledger_refunds_org_id'), 'ledger_refunds', ['org_id'], unique=False)
    op.create_index('uq_ledger_refunds_key', 'ledger_refunds', ['requested_by', 'idempotency_key'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_ledger_refunds_key', table_name='ledger_refunds')
    op.drop_index(op.f('ix_ledger_refunds_org_id'), table_name='ledger_refunds')
    op.drop_index(op.f('ix_ledger_refunds_deposit_id'), table_name='ledger_refunds')
    op.drop_table('ledger_refunds')
    op.drop_index(op.f('ix_sandbox_refunds_order_id'), table_name='sandbox_refunds')
    op.drop_table('sandbox_refunds')
