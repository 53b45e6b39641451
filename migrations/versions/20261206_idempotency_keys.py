"""one Idempotency-Key namespace per person: the registry of each key's first kind

Filled from the keys already used (top-ups, refunds, withdrawals and payouts, campaign
submits and closes; a claim's key is kept only as its id's hash, so claims start empty).

Revision ID: a5c9d1e7f3b2
Revises: f4b8c0d3e5a9
Created: 2026-12-06 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a5c9d1e7f3b2'
down_revision: str | None = 'f4b8c0d3e5a9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'idempotency_keys',
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('key', sa.String(length=160), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column(
            'created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint('person_id', 'key', name=op.f('pk_idempotency_keys')),
    )
    # Oldest use first: where one key was already used for two kinds, the first is kept.
    op.execute(
        """
        INSERT INTO idempotency_keys (person_id, key, kind, created_at)
        SELECT person_id, key, kind, created_at FROM (
            SELECT requested_by AS person_id, idempotency_key AS key, 'top_up' AS kind,
                   created_at FROM ledger_deposits
            UNION ALL
            SELECT requested_by, idempotency_key, 'refund', created_at FROM ledger_refunds
            UNION ALL
            SELECT person_id, idempotency_key, 'withdrawal', created_at FROM ledger_withdrawals
            UNION ALL
            SELECT actor_id, data->>'request_key', 'campaign', created_at FROM audit_log
            WHERE action IN ('campaigns.submitted', 'campaigns.closed')
              AND actor_id IS NOT NULL AND data ? 'request_key'
        ) AS used
        WHERE key IS NOT NULL AND key <> ''
        ORDER BY created_at
        ON CONFLICT (person_id, key) DO NOTHING
        """
    )


def downgrade() -> None:
    op.drop_table('idempotency_keys')
