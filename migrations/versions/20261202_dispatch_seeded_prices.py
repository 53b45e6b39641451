"""dispatch seeded prices

Revision ID: 68272cc6d32d
Revises: c41f7a9e2b6d
Created: 2026-12-01 23:27:28.761788+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '68272cc6d32d'
down_revision: str | None = 'c41f7a9e2b6d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dispatch_seeded_prices',
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('price', sa.Double(), nullable=False),
    sa.Column('seeded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('price >= 0', name=op.f('ck_dispatch_seeded_prices_price_not_negative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_dispatch_seeded_prices_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_dispatch_seeded_prices'))
    )
    op.create_index(op.f('ix_dispatch_seeded_prices_seeded_at'), 'dispatch_seeded_prices', ['seeded_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_dispatch_seeded_prices_seeded_at'), table_name='dispatch_seeded_prices')
    op.drop_table('dispatch_seeded_prices')
