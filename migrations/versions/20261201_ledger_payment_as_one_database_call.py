"""ledger: a payment notice as one database call

Revision ID: d2f6b8a1c305
Revises: b7e4c2d9a104
Created: 2026-12-01 17:20:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'd2f6b8a1c305'
down_revision: str | None = 'b7e4c2d9a104'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


RECORD_PAYMENT = """
CREATE FUNCTION ledger_record_payment(
    p_deposit uuid, p_amount bigint, p_status text, p_txn text, p_world text
) RETURNS TABLE (outcome text, deposit_amount bigint)
LANGUAGE plpgsql AS $$
DECLARE
    dep ledger_deposits;
    credit text;
    applied record;
BEGIN
    -- The deposit first, then (inside ledger_apply_transfer) the accounts: the same order
    -- as refunds, so the two cannot deadlock.
    SELECT * INTO dep FROM ledger_deposits WHERE id = p_deposit FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'not_found', NULL::bigint; RETURN;
    END IF;
    IF dep.amount <> p_amount THEN
        RETURN QUERY SELECT 'amount_mismatch', dep.amount; RETURN;
    END IF;
    IF dep.status = 'paid' THEN
        RETURN QUERY SELECT 'already_paid', dep.amount; RETURN;
    END IF;
    IF p_status = 'closed' THEN
        UPDATE ledger_deposits SET status = 'closed' WHERE id = dep.id;
        RETURN QUERY SELECT 'closed', dep.amount; RETURN;
    END IF;
    -- Paid, also after a "closed": the money did arrive, so it is credited.
    -- (Built with format(): a colon before a word would read as a bind parameter to Alembic.)
    credit := format('org:%s:%s', dep.org_id, 'available');
    SELECT * INTO applied FROM ledger_apply_transfer(
        'deposit:' || dep.id,
        encode(sha256(convert_to(concat_ws('|', 'deposit', dep.id, credit, dep.amount), 'UTF8')), 'hex'),
        'single', p_world, credit, dep.amount, 'CNY', 'deposit', 'deposit:' || dep.id,
        NULL, NULL, '{}'::jsonb
    );
    IF applied.error IS NOT NULL THEN
        RETURN QUERY SELECT applied.error, dep.amount; RETURN;
    END IF;
    UPDATE ledger_deposits SET status = 'paid', paid_at = now(), provider_txn = p_txn
        WHERE id = dep.id;
    INSERT INTO audit_log (actor_id, action, object_type, object_id, data)
        VALUES (NULL, 'ledger.deposit_paid', 'organisation', dep.org_id::text,
                jsonb_build_object('deposit', dep.id::text, 'amount', dep.amount, 'txn', p_txn));
    RETURN QUERY SELECT 'paid', dep.amount;
END
$$;
"""


def upgrade() -> None:
    op.execute(RECORD_PAYMENT)


def downgrade() -> None:
    op.execute("DROP FUNCTION ledger_record_payment(uuid, bigint, text, text, text)")
