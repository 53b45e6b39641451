"""sandbox: a shop of products and the orders placed in it; campaigns: the product's
price for purchase tasks

Revision ID: 8e4f1a6c2d37
Revises: 5d2b8e7c4a91
Created: 2026-12-05 03:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8e4f1a6c2d37'
down_revision: str | None = '5d2b8e7c4a91'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('campaigns', sa.Column('target_price_fen', sa.BigInteger(), nullable=True))
    op.create_table('sandbox_products',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('orders', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('refunds', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('on_sale', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('orders >= 0 AND refunds >= 0 AND refunds <= orders', name=op.f('ck_sandbox_products_counts')),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_sandbox_products_price_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['sandbox_accounts.id'], name=op.f('fk_sandbox_products_account_id_sandbox_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_products'))
    )
    op.create_index(op.f('ix_sandbox_products_account_id'), 'sandbox_products', ['account_id'], unique=False)
    op.create_table('sandbox_orders',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('product_id', sa.Uuid(), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('price_fen > 0', name=op.f('ck_sandbox_orders_price_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['sandbox_accounts.id'], name=op.f('fk_sandbox_orders_account_id_sandbox_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['sandbox_products.id'], name=op.f('fk_sandbox_orders_product_id_sandbox_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_orders'))
    )
    op.create_index('ix_sandbox_orders_buyer_product', 'sandbox_orders', ['account_id', 'product_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_sandbox_orders_product_id'), 'sandbox_orders', ['product_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sandbox_orders_product_id'), table_name='sandbox_orders')
    op.drop_index('ix_sandbox_orders_buyer_product', table_name='sandbox_orders')
    op.drop_table('sandbox_orders')
    op.drop_index(op.f('ix_sandbox_products_account_id'), table_name='sandbox_products')
    op.drop_table('sandbox_products')
    op.drop_column('campaigns', 'target_price_fen')
