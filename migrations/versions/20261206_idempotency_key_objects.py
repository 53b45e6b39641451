"""the idempotency registry keeps what a key's first request made (a campaign draft)

Revision ID: b6d0e2f4a8c1
Revises: a5c9d1e7f3b2
Created: 2026-12-06 11:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b6d0e2f4a8c1'
down_revision: str | None = 'a5c9d1e7f3b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('idempotency_keys', sa.Column('request_hash', sa.String(length=64)))
    op.add_column('idempotency_keys', sa.Column('object_id', sa.Uuid()))


def downgrade() -> None:
    op.drop_column('idempotency_keys', 'object_id')
    op.drop_column('idempotency_keys', 'request_hash')
