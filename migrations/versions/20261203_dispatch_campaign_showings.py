"""dispatch campaign showings

Revision ID: 5e1c9d7a3b20
Revises: a928e2876526
Created: 2026-12-03 06:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e1c9d7a3b20'
down_revision: str | None = 'a928e2876526'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('dispatch_campaign_showings',
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('shown', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('shown > 0', name=op.f('ck_dispatch_campaign_showings_shown_positive')),
    sa.PrimaryKeyConstraint('campaign_id', 'hour', name=op.f('pk_dispatch_campaign_showings'))
    )
    # The feeds logged before this table are counted into it.
    op.execute(
        "INSERT INTO dispatch_campaign_showings (campaign_id, hour, shown) "
        "SELECT shown.campaign_id, date_trunc('hour', f.shown_at, 'UTC'), count(*) "
        "FROM dispatch_shown_feeds f CROSS JOIN LATERAL unnest(f.campaign_ids) AS shown(campaign_id) "
        "GROUP BY 1, 2"
    )


def downgrade() -> None:
    op.drop_table('dispatch_campaign_showings')
