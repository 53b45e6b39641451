"""sandbox: ad cards accounts show on their profiles, and the viewers counted

Revision ID: 3b7d9e2f5a14
Revises: 8e4f1a6c2d37
Created: 2026-12-05 10:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3b7d9e2f5a14'
down_revision: str | None = '8e4f1a6c2d37'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sandbox_profile_ads',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('advertiser_id', sa.Uuid(), nullable=False),
    sa.Column('line', sa.String(length=100), nullable=False),
    sa.Column('ref', sa.String(length=40), nullable=True),
    sa.Column('impressions', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('impressions >= 0', name=op.f('ck_sandbox_profile_ads_impressions')),
    sa.ForeignKeyConstraint(['account_id'], ['sandbox_accounts.id'], name=op.f('fk_sandbox_profile_ads_account_id_sandbox_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['advertiser_id'], ['sandbox_accounts.id'], name=op.f('fk_sandbox_profile_ads_advertiser_id_sandbox_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_profile_ads'))
    )
    op.create_index(op.f('ix_sandbox_profile_ads_account_id'), 'sandbox_profile_ads', ['account_id'], unique=False)
    op.create_index('ux_sandbox_profile_ads_showing', 'sandbox_profile_ads', ['account_id'], unique=True, postgresql_where=sa.text('removed_at IS NULL'))
    op.create_table('sandbox_ad_views',
    sa.Column('ad_id', sa.Uuid(), nullable=False),
    sa.Column('viewer', sa.String(length=64), nullable=False),
    sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ad_id'], ['sandbox_profile_ads.id'], name=op.f('fk_sandbox_ad_views_ad_id_sandbox_profile_ads'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ad_id', 'viewer', name=op.f('pk_sandbox_ad_views'))
    )


def downgrade() -> None:
    op.drop_table('sandbox_ad_views')
    op.drop_index('ux_sandbox_profile_ads_showing', table_name='sandbox_profile_ads', postgresql_where=sa.text('removed_at IS NULL'))
    op.drop_index(op.f('ix_sandbox_profile_ads_account_id'), table_name='sandbox_profile_ads')
    op.drop_table('sandbox_profile_ads')
