"""ledger: a batch of transfers checked in memory and written set-wise; batches of
payment notices look their rows up by key

Revision ID: c41f7a9e2b6d
Revises: 86052361af0a
Created: 2026-12-01 23:20:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'c41f7a9e2b6d'
down_revision: str | None = '86052361af0a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The batch used to call ledger_apply_transfer once per request: seven statements each.
# Now the accounts are locked and read once, every request is checked in order against
# totals kept in the function's memory (so each one still sees the ones before it), and
# the accepted transfers are written with one INSERT and the totals with one UPDATE. The
# rules, their order and the answers are those of ledger_apply_transfer.
APPLY_TRANSFERS = """
CREATE OR REPLACE FUNCTION ledger_apply_transfers(p_requests jsonb)
RETURNS TABLE (ord integer, transfer_id bigint, replayed boolean, error text, available bigint)
LANGUAGE plpgsql
-- Every lookup here is by key. Planned once per connection rather than on each call (the
-- arrays as parameters would otherwise keep the planner re-planning every statement), and
-- as index probes even on a small or never-analysed table, where a generic plan would
-- prefer reading the whole table.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_accounts text[]; v_keys text[];
    -- The batch's accounts, locked in id order; totals as they stand after each request.
    a_key text[]; a_id bigint[]; a_asset text[]; a_nod boolean[]; a_ncbd boolean[];
    a_dp bigint[]; a_dpe bigint[]; a_cp bigint[]; a_cpe bigint[]; a_touched boolean[];
    -- Transfers already stored under one of the batch's keys.
    e_key text[]; e_id bigint[]; e_hash text[];
    -- The accepted requests, in order, as they will be inserted.
    n_ord integer[] := '{}'; n_key text[] := '{}'; n_hash text[] := '{}';
    n_kind text[] := '{}'; n_debit bigint[] := '{}'; n_credit bigint[] := '{}';
    n_amount bigint[] := '{}'; n_asset text[] := '{}'; n_code text[] := '{}';
    n_reference text[] := '{}'; n_linked uuid[] := '{}'; n_timeout timestamptz[] := '{}';
    n_meta jsonb[] := '{}';
    m_id bigint[]; m_key text[];
    -- The answer to each request (1-based); o_dup points at an accepted request that
    -- carried the same key earlier in this batch.
    o_id bigint[] := '{}'; o_replayed boolean[] := '{}'; o_error text[] := '{}';
    o_available bigint[] := '{}'; o_dup integer[] := '{}';
    r record;
    di integer; ci integer; ei integer; ni integer;
    i integer := 0;
BEGIN
    -- Keys as arrays, so both lookups below are index probes (an IN over a set-returning
    -- function is planned as a hash join over the whole table).
    SELECT array_agg(DISTINCT k.key) INTO v_accounts FROM (
        SELECT e->>'debit' AS key FROM jsonb_array_elements(p_requests) AS e
        UNION ALL SELECT e->>'credit' FROM jsonb_array_elements(p_requests) AS e
    ) AS k;
    SELECT array_agg(e->>'key') INTO v_keys FROM jsonb_array_elements(p_requests) AS e;
    SELECT array_agg(s.key ORDER BY s.id), array_agg(s.id ORDER BY s.id),
           array_agg(s.asset ORDER BY s.id), array_agg(s.no_overdraft ORDER BY s.id),
           array_agg(s.no_credit_beyond_debits ORDER BY s.id),
           array_agg(s.debits_posted ORDER BY s.id), array_agg(s.debits_pending ORDER BY s.id),
           array_agg(s.credits_posted ORDER BY s.id),
           array_agg(s.credits_pending ORDER BY s.id), array_agg(false)
        INTO a_key, a_id, a_asset, a_nod, a_ncbd, a_dp, a_dpe, a_cp, a_cpe, a_touched
        FROM (
            SELECT la.key, la.id, la.asset, la.no_overdraft, la.no_credit_beyond_debits,
                   la.debits_posted, la.debits_pending, la.credits_posted, la.credits_pending
            FROM ledger_accounts AS la
            WHERE la.key = ANY (v_accounts)
            -- In id order: two batches over the same accounts queue, never deadlock.
            ORDER BY la.id FOR NO KEY UPDATE
        ) AS s;
    SELECT array_agg(t.idempotency_key), array_agg(t.id), array_agg(t.request_hash)
        INTO e_key, e_id, e_hash
        FROM ledger_transfers AS t
        WHERE t.idempotency_key = ANY (v_keys);
    FOR r IN SELECT * FROM jsonb_to_recordset(p_requests) AS x(
        key text, hash text, kind text, debit text, credit text, amount bigint, asset text,
        code text, reference text, linked uuid, timeout_at timestamptz, meta jsonb
    ) LOOP
        i := i + 1;
        o_replayed[i] := false;
        di := array_position(a_key, r.debit);
        ci := array_position(a_key, r.credit);
        IF di IS NULL OR ci IS NULL THEN
            o_error[i] := 'unknown_account';
            CONTINUE;
        END IF;
        ei := array_position(e_key, r.key);
        IF ei IS NOT NULL THEN
            o_id[i] := e_id[ei];
            o_replayed[i] := true;
            IF e_hash[ei] <> r.hash THEN o_error[i] := 'idempotency_key_reused'; END IF;
            CONTINUE;
        END IF;
        ni := array_position(n_key, r.key);
        IF ni IS NOT NULL THEN
            o_dup[i] := ni;
            o_replayed[i] := true;
            IF n_hash[ni] <> r.hash THEN o_error[i] := 'idempotency_key_reused'; END IF;
            CONTINUE;
        END IF;
        IF a_asset[di] <> r.asset OR a_asset[ci] <> r.asset THEN
            o_error[i] := 'asset_mismatch';
            CONTINUE;
        END IF;
        IF a_nod[di] AND a_dp[di] + a_dpe[di] + r.amount > a_cp[di] THEN
            o_error[i] := 'insufficient_funds';
            o_available[i] := a_cp[di] - a_dp[di] - a_dpe[di];
            CONTINUE;
        END IF;
        IF a_ncbd[ci] AND a_cp[ci] + a_cpe[ci] + r.amount > a_dp[ci] THEN
            o_error[i] := 'credit_limit_exceeded';
            CONTINUE;
        END IF;
        IF r.kind = 'pending' THEN
            a_dpe[di] := a_dpe[di] + r.amount;
            a_cpe[ci] := a_cpe[ci] + r.amount;
        ELSE
            a_dp[di] := a_dp[di] + r.amount;
            a_cp[ci] := a_cp[ci] + r.amount;
        END IF;
        a_touched[di] := true;
        a_touched[ci] := true;
        n_ord := n_ord || i; n_key := n_key || r.key; n_hash := n_hash || r.hash;
        n_kind := n_kind || r.kind; n_debit := n_debit || a_id[di];
        n_credit := n_credit || a_id[ci]; n_amount := n_amount || r.amount;
        n_asset := n_asset || r.asset; n_code := n_code || r.code;
        n_reference := n_reference || r.reference; n_linked := n_linked || r.linked;
        n_timeout := n_timeout || r.timeout_at; n_meta := n_meta || r.meta;
    END LOOP;
    IF cardinality(n_key) > 0 THEN
        WITH made AS (
            INSERT INTO ledger_transfers (idempotency_key, request_hash, kind,
                debit_account_id, credit_account_id, amount, asset, code, reference,
                linked_id, timeout_at, meta)
            SELECT * FROM unnest(n_key, n_hash, n_kind, n_debit, n_credit, n_amount,
                n_asset, n_code, n_reference, n_linked, n_timeout, n_meta)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id, idempotency_key
        )
        SELECT array_agg(made.id), array_agg(made.idempotency_key) INTO m_id, m_key
            FROM made;
        IF coalesce(cardinality(m_id), 0) < cardinality(n_key) THEN
            -- Another transaction stored one of these keys after it was looked up: the
            -- totals above counted it, so nothing of the batch may stand. The caller
            -- applies the requests one by one, where such a key is answered as a replay.
            RAISE EXCEPTION 'a key of the batch was stored meanwhile'
                USING ERRCODE = 'XD001';
        END IF;
        FOR ni IN 1..cardinality(n_key) LOOP
            o_id[n_ord[ni]] := m_id[array_position(m_key, n_key[ni])];
        END LOOP;
        UPDATE ledger_accounts AS la SET
            debits_posted = u.dp, debits_pending = u.dpe,
            credits_posted = u.cp, credits_pending = u.cpe
        FROM unnest(a_id, a_dp, a_dpe, a_cp, a_cpe, a_touched)
            AS u(id, dp, dpe, cp, cpe, touched)
        WHERE la.id = u.id AND u.touched;
    END IF;
    FOR ni IN 1..i LOOP
        ord := ni - 1;
        transfer_id := coalesce(o_id[ni], o_id[n_ord[o_dup[ni]]]);
        replayed := o_replayed[ni];
        error := o_error[ni];
        available := o_available[ni];
        RETURN NEXT;
    END LOOP;
END
$$;
"""

RECORD_PAYMENTS = """
CREATE OR REPLACE FUNCTION ledger_record_payments(p_notices jsonb)
RETURNS TABLE (ord integer, outcome text, deposit_amount bigint)
LANGUAGE plpgsql
-- As ledger_apply_transfers: planned once per connection, as index probes.
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_deposits uuid[];
    v_accounts text[];
    n jsonb;
    i integer := 0;
    one record;
BEGIN
    -- Every deposit of the batch, then every account, each in id order: the order one
    -- notice and a refund take them in, kept across the whole batch, so two batches (or a
    -- batch and a refund) queue instead of deadlocking.
    SELECT array_agg((e->>'deposit')::uuid) INTO v_deposits
        FROM jsonb_array_elements(p_notices) AS e;
    PERFORM 1 FROM ledger_deposits WHERE id = ANY (v_deposits) ORDER BY id FOR UPDATE;
    SELECT array_agg(k.key) INTO v_accounts FROM (
        SELECT e->>'world' AS key FROM jsonb_array_elements(p_notices) AS e
        UNION
        SELECT format('org:%s:%s', dep.org_id, 'available') FROM ledger_deposits AS dep
        WHERE dep.id = ANY (v_deposits)
    ) AS k;
    PERFORM 1 FROM ledger_accounts WHERE key = ANY (v_accounts) ORDER BY id FOR NO KEY UPDATE;
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

# As revision b7e4c2d9a104 made it, for the downgrade.
APPLY_TRANSFERS_BEFORE = """
CREATE OR REPLACE FUNCTION ledger_apply_transfers(p_requests jsonb)
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


# As revision 5b1e9d7c3a48 made it, for the downgrade.
RECORD_PAYMENTS_BEFORE = """
CREATE OR REPLACE FUNCTION ledger_record_payments(p_notices jsonb)
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
    op.execute(APPLY_TRANSFERS)
    op.execute(RECORD_PAYMENTS)


def downgrade() -> None:
    op.execute(RECORD_PAYMENTS_BEFORE)
    op.execute(APPLY_TRANSFERS_BEFORE)
