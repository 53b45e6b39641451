"""ledger: one statement for both totals of a transfer; payment notices in batches

Revision ID: 5b1e9d7c3a48
Revises: 3f923fbc458c
Created: 2026-12-01 20:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '5b1e9d7c3a48'
down_revision: str | None = '3f923fbc458c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPLY_TRANSFER = """
CREATE OR REPLACE FUNCTION ledger_apply_transfer(
    p_key text, p_hash text, p_kind text, p_debit text, p_credit text, p_amount bigint,
    p_asset text, p_code text, p_reference text, p_linked uuid, p_timeout_at timestamptz,
    p_meta jsonb
) RETURNS TABLE (transfer_id bigint, replayed boolean, error text, available bigint)
LANGUAGE plpgsql AS $$
DECLARE
    d ledger_accounts;
    c ledger_accounts;
    earlier ledger_transfers;
    made bigint;
BEGIN
    -- Lock both accounts in id order, so concurrent transfers queue instead of deadlocking.
    PERFORM 1 FROM ledger_accounts WHERE key IN (p_debit, p_credit)
        ORDER BY id FOR NO KEY UPDATE;
    SELECT * INTO d FROM ledger_accounts WHERE key = p_debit;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::bigint, false, 'unknown_account', NULL::bigint; RETURN;
    END IF;
    SELECT * INTO c FROM ledger_accounts WHERE key = p_credit;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::bigint, false, 'unknown_account', NULL::bigint; RETURN;
    END IF;
    SELECT * INTO earlier FROM ledger_transfers WHERE idempotency_key = p_key;
    IF FOUND THEN
        RETURN QUERY SELECT earlier.id, true,
            CASE WHEN earlier.request_hash <> p_hash THEN 'idempotency_key_reused' END,
            NULL::bigint;
        RETURN;
    END IF;
    IF d.asset <> p_asset OR c.asset <> p_asset THEN
        RETURN QUERY SELECT NULL::bigint, false, 'asset_mismatch', NULL::bigint; RETURN;
    END IF;
    IF d.no_overdraft AND d.debits_posted + d.debits_pending + p_amount > d.credits_posted THEN
        RETURN QUERY SELECT NULL::bigint, false, 'insufficient_funds',
            d.credits_posted - d.debits_posted - d.debits_pending;
        RETURN;
    END IF;
    IF c.no_credit_beyond_debits
        AND c.credits_posted + c.credits_pending + p_amount > c.debits_posted THEN
        RETURN QUERY SELECT NULL::bigint, false, 'credit_limit_exceeded', NULL::bigint; RETURN;
    END IF;
    INSERT INTO ledger_transfers (idempotency_key, request_hash, kind, debit_account_id,
        credit_account_id, amount, asset, code, reference, linked_id, timeout_at, meta)
    VALUES (p_key, p_hash, p_kind, d.id, c.id, p_amount, p_asset, p_code, p_reference,
        p_linked, p_timeout_at, p_meta)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO made;
    IF made IS NULL THEN
        -- Another transaction committed this key meanwhile: answer with its transfer.
        SELECT * INTO earlier FROM ledger_transfers WHERE idempotency_key = p_key;
        RETURN QUERY SELECT earlier.id, true,
            CASE WHEN earlier.request_hash <> p_hash THEN 'idempotency_key_reused' END,
            NULL::bigint;
        RETURN;
    END IF;
    -- Both totals in one statement: one scan of the accounts' index instead of two.
    IF p_kind = 'pending' THEN
        UPDATE ledger_accounts SET
            debits_pending = debits_pending + CASE WHEN id = d.id THEN p_amount ELSE 0 END,
            credits_pending = credits_pending + CASE WHEN id = c.id THEN p_amount ELSE 0 END
        WHERE id IN (d.id, c.id);
    ELSE
        UPDATE ledger_accounts SET
            debits_posted = debits_posted + CASE WHEN id = d.id THEN p_amount ELSE 0 END,
            credits_posted = credits_posted + CASE WHEN id = c.id THEN p_amount ELSE 0 END
        WHERE id IN (d.id, c.id);
    END IF;
    RETURN QUERY SELECT made, false, NULL::text, NULL::bigint;
END;
$$
"""

# The function as it was before this revision (9eacc1267f2b), for the downgrade.
APPLY_TRANSFER_BEFORE = """
CREATE OR REPLACE FUNCTION ledger_apply_transfer(
    p_key text, p_hash text, p_kind text, p_debit text, p_credit text, p_amount bigint,
    p_asset text, p_code text, p_reference text, p_linked uuid, p_timeout_at timestamptz,
    p_meta jsonb
) RETURNS TABLE (transfer_id bigint, replayed boolean, error text, available bigint)
LANGUAGE plpgsql AS $$
DECLARE
    d ledger_accounts;
    c ledger_accounts;
    earlier ledger_transfers;
    made bigint;
BEGIN
    -- Lock both accounts in id order, so concurrent transfers queue instead of deadlocking.
    PERFORM 1 FROM ledger_accounts WHERE key IN (p_debit, p_credit)
        ORDER BY id FOR NO KEY UPDATE;
    SELECT * INTO d FROM ledger_accounts WHERE key = p_debit;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::bigint, false, 'unknown_account', NULL::bigint; RETURN;
    END IF;
    SELECT * INTO c FROM ledger_accounts WHERE key = p_credit;
    IF NOT FOUND THEN
        RETURN QUERY SELECT NULL::bigint, false, 'unknown_account', NULL::bigint; RETURN;
    END IF;
    SELECT * INTO earlier FROM ledger_transfers WHERE idempotency_key = p_key;
    IF FOUND THEN
        RETURN QUERY SELECT earlier.id, true,
            CASE WHEN earlier.request_hash <> p_hash THEN 'idempotency_key_reused' END,
            NULL::bigint;
        RETURN;
    END IF;
    IF d.asset <> p_asset OR c.asset <> p_asset THEN
        RETURN QUERY SELECT NULL::bigint, false, 'asset_mismatch', NULL::bigint; RETURN;
    END IF;
    IF d.no_overdraft AND d.debits_posted + d.debits_pending + p_amount > d.credits_posted THEN
        RETURN QUERY SELECT NULL::bigint, false, 'insufficient_funds',
            d.credits_posted - d.debits_posted - d.debits_pending;
        RETURN;
    END IF;
    IF c.no_credit_beyond_debits
        AND c.credits_posted + c.credits_pending + p_amount > c.debits_posted THEN
        RETURN QUERY SELECT NULL::bigint, false, 'credit_limit_exceeded', NULL::bigint; RETURN;
    END IF;
    INSERT INTO ledger_transfers (idempotency_key, request_hash, kind, debit_account_id,
        credit_account_id, amount, asset, code, reference, linked_id, timeout_at, meta)
    VALUES (p_key, p_hash, p_kind, d.id, c.id, p_amount, p_asset, p_code, p_reference,
        p_linked, p_timeout_at, p_meta)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO made;
    IF made IS NULL THEN
        -- Another transaction committed this key meanwhile: answer with its transfer.
        SELECT * INTO earlier FROM ledger_transfers WHERE idempotency_key = p_key;
        RETURN QUERY SELECT earlier.id, true,
            CASE WHEN earlier.request_hash <> p_hash THEN 'idempotency_key_reused' END,
            NULL::bigint;
        RETURN;
    END IF;
    IF p_kind = 'pending' THEN
        UPDATE ledger_accounts SET debits_pending = debits_pending + p_amount WHERE id = d.id;
        UPDATE ledger_accounts SET credits_pending = credits_pending + p_amount WHERE id = c.id;
    ELSE
        UPDATE ledger_accounts SET debits_posted = debits_posted + p_amount WHERE id = d.id;
        UPDATE ledger_accounts SET credits_posted = credits_posted + p_amount WHERE id = c.id;
    END IF;
    RETURN QUERY SELECT made, false, NULL::text, NULL::bigint;
END;
$$
"""

RECORD_PAYMENTS = """
CREATE FUNCTION ledger_record_payments(p_notices jsonb)
RETURNS TABLE (ord integer, outcome text, deposit_amount bigint)
LANGUAGE plpgsql AS $$
DECLARE
    n jsonb;
    i integer := 0;
    one record;
BEGIN
    -- Every deposit of the batch, then every account, each in id order: the order one
    -- notice and a refund take them in, kept across the whole batch, so two batches (or a
    -- batch and a refund) queue instead of deadlocking.
    PERFORM 1 FROM ledger_deposits
        WHERE id IN (SELECT (e->>'deposit')::uuid FROM jsonb_array_elements(p_notices) AS e)
        ORDER BY id FOR UPDATE;
    PERFORM 1 FROM ledger_accounts
        WHERE key IN (
            SELECT e->>'world' FROM jsonb_array_elements(p_notices) AS e
            UNION
            SELECT format('org:%s:%s', dep.org_id, 'available') FROM ledger_deposits AS dep
            WHERE dep.id IN (
                SELECT (e->>'deposit')::uuid FROM jsonb_array_elements(p_notices) AS e
            )
        )
        ORDER BY id FOR NO KEY UPDATE;
    -- Each notice stands alone, in the order given: a second notice of one deposit in
    -- the same batch finds it paid by the first.
    FOR n IN SELECT value FROM jsonb_array_elements(p_notices) LOOP
        SELECT * INTO one FROM ledger_record_payment(
            (n->>'deposit')::uuid, (n->>'amount')::bigint, n->>'status', n->>'txn', n->>'world'
        );
        ord := i;
        outcome := one.outcome;
        deposit_amount := one.deposit_amount;
        RETURN NEXT;
        i := i + 1;
    END LOOP;
END
$$;
"""


def upgrade() -> None:
    op.execute(APPLY_TRANSFER)
    op.execute(RECORD_PAYMENTS)


def downgrade() -> None:
    op.execute("DROP FUNCTION ledger_record_payments(jsonb)")
    op.execute(APPLY_TRANSFER_BEFORE)
