"""organisations' linked platform accounts; campaigns keep their target's owner

Revision ID: c4a7e9d2f5b8
Revises: b8e2d4f6a1c3
Created: 2026-12-06 00:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c4a7e9d2f5b8'
down_revision: str | None = 'b8e2d4f6a1c3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'org_platform_accounts',
        sa.Column('org_id', sa.Uuid(), nullable=False),
        sa.Column('platform', sa.String(length=20), nullable=False),
        sa.Column('handle', sa.String(length=40), nullable=False),
        sa.Column('linked_by', sa.Uuid(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column(
            'created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(['linked_by'], ['people.id']),
        sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('org_id', 'platform', 'handle'),
    )
    op.create_index(
        op.f('ix_org_platform_accounts_org_id'), 'org_platform_accounts', ['org_id']
    )
    op.add_column('campaigns', sa.Column('target_owner', sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column('campaigns', 'target_owner')
    op.drop_index(op.f('ix_org_platform_accounts_org_id'), table_name='org_platform_accounts')
    op.drop_table('org_platform_accounts')
