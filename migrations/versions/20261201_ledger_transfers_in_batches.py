"""ledger: transfers in batches

Revision ID: b7e4c2d9a104
Revises: e7b2d4f60a02
Created: 2026-12-01 16:55:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'b7e4c2d9a104'
down_revision: str | None = 'e7b2d4f60a02'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPLY_TRANSFERS = """
CREATE FUNCTION ledger_apply_transfers(p_requests jsonb)
RETURNS TABLE (ord integer, transfer_id bigint, replayed boolean, error text, available bigint)
LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
    i integer := 0;
    one record;
BEGIN
    -- Every account of the batch is locked up front in id order: two batches over the
    -- same accounts queue instead of deadlocking.
    PERFORM 1 FROM ledger_accounts
        WHERE key IN (
            SELECT e->>'debit' FROM jsonb_array_elements(p_requests) AS e
            UNION SELECT e->>'credit' FROM jsonb_array_elements(p_requests) AS e
        )
        ORDER BY id FOR NO KEY UPDATE;
    -- Each movement stands alone: a refused one answers with its error and the others
    -- still apply.
    FOR r IN SELECT value FROM jsonb_array_elements(p_requests) LOOP
        SELECT * INTO one FROM ledger_apply_transfer(
            r->>'key', r->>'hash', r->>'kind', r->>'debit', r->>'credit',
            (r->>'amount')::bigint, r->>'asset', r->>'code', r->>'reference',
            (r->>'linked')::uuid, (r->>'timeout_at')::timestamptz, r->'meta'
        );
        ord := i;
        transfer_id := one.transfer_id;
        replayed := one.replayed;
        error := one.error;
        available := one.available;
        RETURN NEXT;
        i := i + 1;
    END LOOP;
END
$$;
"""


def upgrade() -> None:
    op.execute(APPLY_TRANSFERS)


def downgrade() -> None:
    op.execute("DROP FUNCTION ledger_apply_transfers(jsonb)")
