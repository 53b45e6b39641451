"""Brand top-ups through the sandbox payment provider, with duplicate, out-of-order and
forged notifications."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta

import httpx
import psycopg
from sqlalchemy import func, select, text

from tests.factories import User, add_member, create_org, register
from xingdong.core.db import Database, libpq_url
from xingdong.core.settings import Settings
from xingdong.ledger import deposits as deposit_service
from xingdong.ledger import service as ledger
from xingdong.ledger.models import Transfer
from xingdong.ledger.payments import PaymentRecord, SandboxPaymentProvider


def provider(client: httpx.AsyncClient) -> SandboxPaymentProvider:
    sandbox = client.app.state.runtime.payments  # type: ignore[attr-defined]
    assert isinstance(sandbox, SandboxPaymentProvider)
    return sandbox


async def start_deposit(
    client: httpx.AsyncClient, owner: User, org_id: str, amount: int, key: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/orgs/{org_id}/deposits",
        json={"amount_fen": amount},
        headers={**owner.auth, "Idempotency-Key": key},
    )


async def notify(
    client: httpx.AsyncClient, deposit_id: str, amount: int, status: str = "paid"
) -> httpx.Response:
    sandbox = provider(client)
    body = sandbox.notice_body(order_id=deposit_id, amount=amount, status=status)
    return await client.post(
        "/api/v1/payments/sandbox/notify", content=body, headers={"X-Signature": sandbox.sign(body)}
    )


async def balance(client: httpx.AsyncClient, user: User, org_id: str) -> int:
    response = await client.get(f"/api/v1/orgs/{org_id}/balance", headers=user.auth)
    assert response.status_code == 200, response.text
    value: int = response.json()["available_fen"]
    return value


async def test_a_top_up_credits_the_balance_once(client: httpx.AsyncClient, db: Database) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    assert await balance(client, owner, org_id) == 0
    started = await start_deposit(client, owner, org_id, 50_000, "top-up-1")
    assert started.status_code == 201
    deposit = started.json()
    assert deposit["status"] == "created"
    assert deposit["checkout_url"] == f"/sandbox/pay/{deposit['id']}?amount=50000"
    # The link to pay is not lost with the first answer: the list and the top-up give it
    # while it waits for payment.
    url = f"/api/v1/orgs/{org_id}/deposits"
    listed = (await client.get(url, headers=owner.auth)).json()["items"]
    assert [d["checkout_url"] for d in listed] == [deposit["checkout_url"]]
    one = (await client.get(f"{url}/{deposit['id']}", headers=owner.auth)).json()
    assert one["checkout_url"] == deposit["checkout_url"]
    first = await notify(client, deposit["id"], 50_000)
    assert first.status_code == 200
    assert first.text == "success"
    again = await notify(client, deposit["id"], 50_000)
    assert again.status_code == 200
    assert await balance(client, owner, org_id) == 50_000
    read = await client.get(f"/api/v1/orgs/{org_id}/deposits/{deposit['id']}", headers=owner.auth)
    assert (read.json()["status"], read.json()["checkout_url"]) == ("paid", None)
    async with db.sessionmaker() as s:
        assert (await s.execute(select(func.count()).select_from(Transfer))).scalar_one() == 1
        assert (await ledger.verify(s)).problems == []


async def test_parallel_duplicate_notifications_credit_once(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    deposit = (await start_deposit(client, owner, org_id, 12_345, "k")).json()
    answers = await asyncio.gather(*(notify(client, deposit["id"], 12_345) for _ in range(8)))
    assert {a.status_code for a in answers} == {200}
    assert await balance(client, owner, org_id) == 12_345


async def test_a_late_paid_notice_after_closed_still_credits(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    deposit = (await start_deposit(client, owner, org_id, 800, "k")).json()
    assert (await notify(client, deposit["id"], 800, status="closed")).status_code == 200
    assert await balance(client, owner, org_id) == 0
    assert (await notify(client, deposit["id"], 800)).status_code == 200
    assert (await notify(client, deposit["id"], 800, status="closed")).status_code == 200
    assert await balance(client, owner, org_id) == 800


async def test_forged_or_altered_notifications_change_nothing(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    deposit = (await start_deposit(client, owner, org_id, 1_000, "k")).json()
    sandbox = provider(client)
    body = sandbox.notice_body(order_id=deposit["id"], amount=1_000)
    forged = await client.post(
        "/api/v1/payments/sandbox/notify", content=body, headers={"X-Signature": "0" * 64}
    )
    assert forged.status_code == 400
    assert forged.json()["code"] == "bad_signature"
    unsigned = await client.post("/api/v1/payments/sandbox/notify", content=body)
    assert unsigned.status_code == 400
    altered = body.replace(b"1000", b"9000")
    tampered = await client.post(
        "/api/v1/payments/sandbox/notify",
        content=altered,
        headers={"X-Signature": sandbox.sign(body)},
    )
    assert tampered.status_code == 400
    wrong_amount = await notify(client, deposit["id"], 999)
    assert wrong_amount.status_code == 409
    assert wrong_amount.json()["code"] == "amount_mismatch"
    assert await balance(client, owner, org_id) == 0


async def test_idempotency_key_returns_the_same_deposit_or_refuses_a_different_one(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    first = await start_deposit(client, owner, org_id, 500, "same-key")
    retry = await start_deposit(client, owner, org_id, 500, "same-key")
    assert retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    different = await start_deposit(client, owner, org_id, 600, "same-key")
    assert different.status_code == 409
    assert different.json()["code"] == "idempotency_key_reused"
    missing = await client.post(
        f"/api/v1/orgs/{org_id}/deposits", json={"amount_fen": 500}, headers=owner.auth
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "Idempotency-Key"
    empty = await start_deposit(client, owner, org_id, 500, "")  # answered as a missing one
    assert (empty.status_code, empty.json()["code"]) == (422, "validation_failed")
    assert empty.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_bad_amounts_and_outsiders_are_refused(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    member = await register(client)
    outsider = await register(client)
    org_id = await create_org(client, owner)
    await add_member(client, org_id, owner, member)
    assert (await start_deposit(client, owner, org_id, 0, "a")).status_code == 422
    assert (await start_deposit(client, owner, org_id, -5, "b")).status_code == 422
    for n, wrong in enumerate(("50000", True, 50000.0)):  # a number, not read into one
        typed = await client.post(
            f"/api/v1/orgs/{org_id}/deposits",
            json={"amount_fen": wrong},
            headers={**owner.auth, "Idempotency-Key": f"typed-{n}"},
        )
        assert typed.status_code == 422, wrong
        assert [e["field"] for e in typed.json()["errors"]] == ["amount_fen"]
    too_small = await start_deposit(client, owner, org_id, 99, "c")
    assert too_small.status_code == 422
    assert too_small.json()["errors"][0]["code"] == "out_of_range"
    assert "¥1.00" in too_small.json()["detail"] and "¥100,000.00" in too_small.json()["detail"]
    assert (await start_deposit(client, owner, org_id, 10_000_001, "d")).status_code == 422
    assert (await start_deposit(client, member, org_id, 500, "e")).status_code == 403
    # Not even seen: not found.
    assert (await start_deposit(client, outsider, org_id, 500, "f")).status_code == 404
    assert (
        await client.get(f"/api/v1/orgs/{org_id}/balance", headers=outsider.auth)
    ).status_code == 404
    assert await balance(client, member, org_id) == 0


async def test_a_notice_while_the_database_is_unreachable_answers_503(settings: Settings) -> None:
    """The provider must retry: a 503 problem with Retry-After, not a 500."""
    from xingdong.app import create_app

    app = create_app(settings, database_url="postgresql://postgres@127.0.0.1:1/nowhere")
    sandbox = SandboxPaymentProvider(settings.payment_sandbox_secret.get_secret_value())
    body = sandbox.notice_body(order_id="01a23287-48c1-7137-b570-e13a9499bb2e", amount=100)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.post(
            "/api/v1/payments/sandbox/notify",
            content=body,
            headers={"X-Signature": sandbox.sign(body)},
        )
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["code"] == "database_unavailable"


async def test_notices_in_batches_from_two_processes_each_stand_alone(db: Database) -> None:
    """Concurrent notices are grouped into batches per process: duplicates across batches
    and processes credit once, and a wrong amount or an unknown deposit fails alone."""
    import uuid

    import psycopg

    from xingdong.core.db import libpq_url
    from xingdong.core.errors import NotFound
    from xingdong.ledger import deposits
    from xingdong.ledger.deposits import AmountMismatch
    from xingdong.ledger.payments import PaymentNotice

    orgs = [uuid.uuid4() for _ in range(3)]
    ids = [uuid.uuid4() for _ in range(30)]
    with psycopg.connect(libpq_url(db.url), autocommit=True) as conn:
        conn.execute("INSERT INTO ledger_accounts (key, asset) VALUES ('external:deposits', 'CNY')")
        for org in orgs:
            conn.execute(
                "INSERT INTO ledger_accounts (key, asset, no_overdraft) VALUES (%s, 'CNY', true)",
                (deposits.org_account(org),),
            )
        for n, deposit_id in enumerate(ids):
            conn.execute(
                "INSERT INTO ledger_deposits (id, org_id, requested_by, amount, provider, "
                "idempotency_key, request_hash) VALUES (%s, %s, %s, %s, 'sandbox', %s, 'x')",
                (deposit_id, orgs[n % 3], orgs[0], 100 + n, f"k-{n}"),
            )
    processes = [Database(db.url, pool_size=3) for _ in range(2)]

    async def notice(n: int, order_id: str, amount: int) -> str:
        try:
            return await deposits.record_payment_notice_alone(
                processes[n % 2],
                notice=PaymentNotice(order_id, amount, "paid", f"txn-{order_id}"),
            )
        except AmountMismatch:
            return "mismatch"
        except NotFound:
            return "not_found"

    calls = [notice(n, str(ids[n % 30]), 100 + n % 30) for n in range(90)]
    calls.append(notice(0, str(ids[7]), 1))
    calls.append(notice(1, str(uuid.uuid4()), 100))
    try:
        outcomes = await asyncio.gather(*calls)
    finally:
        for process in processes:
            await process.dispose()
    assert outcomes.count("paid") == 30
    assert outcomes.count("already_paid") == 60
    assert outcomes[-2:] == ["mismatch", "not_found"]
    async with db.sessionmaker() as s:
        for index, org in enumerate(orgs):
            balance = await ledger.balance(s, deposits.org_account(org))
            assert balance.posted == sum(100 + n for n in range(index, 30, 3))
        assert (await s.execute(select(func.count()).select_from(Transfer))).scalar_one() == 30
        assert (await ledger.verify(s)).problems == []


def _payment_world(url: str) -> dict[str, object]:
    """Deposits in every state a notice can meet: two organisations with accounts, one
    without (its credit is refused), one deposit already paid."""
    from xingdong.core.db import libpq_url

    orgs = [uuid.UUID(int=n) for n in (1, 2, 3)]
    ids = {name: uuid.uuid4() for name in "ABCDEFG"}
    owner = {"A": 0, "B": 1, "C": 0, "D": 2, "E": 1, "F": 0, "G": 2}
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("INSERT INTO ledger_accounts (key, asset) VALUES ('external:deposits', 'CNY')")
        for org in orgs[:2]:
            conn.execute(
                "INSERT INTO ledger_accounts (key, asset, no_overdraft) VALUES (%s, 'CNY', true)",
                (deposit_service.org_account(org),),
            )
        for n, (name, deposit_id) in enumerate(ids.items()):
            conn.execute(
                "INSERT INTO ledger_deposits (id, org_id, requested_by, amount, provider, "
                "idempotency_key, request_hash, status) "
                "VALUES (%s, %s, %s, %s, 'sandbox', %s, 'x', %s)",
                (deposit_id, orgs[owner[name]], orgs[0], 100 + n, f"k-{n}",
                 "paid" if name == "E" else "created"),
            )  # fmt: skip
    return {"ids": ids, "amounts": {name: 100 + n for n, name in enumerate(ids)}}


def _state(conn: object, ids: list[object]) -> tuple[object, ...]:
    """Everything a batch of notices may change, without generated ids and times."""
    assert isinstance(conn, psycopg.Connection)
    return (
        conn.execute(
            "SELECT id, status, provider_txn, paid_at IS NOT NULL FROM ledger_deposits "
            "WHERE id = ANY (%s) ORDER BY id",
            (ids,),
        ).fetchall(),
        conn.execute(
            "SELECT action, object_type, object_id, data FROM audit_log ORDER BY id"
        ).fetchall(),
        conn.execute(
            "SELECT t.idempotency_key, t.request_hash, t.kind, d.key, c.key, t.amount, "
            "t.asset, t.code, t.reference, t.meta FROM ledger_transfers AS t "
            "JOIN ledger_accounts AS d ON d.id = t.debit_account_id "
            "JOIN ledger_accounts AS c ON c.id = t.credit_account_id ORDER BY t.id"
        ).fetchall(),
        conn.execute(
            "SELECT key, debits_posted, credits_posted, debits_pending, credits_pending "
            "FROM ledger_accounts ORDER BY key"
        ).fetchall(),
    )


def test_a_batch_of_notices_answers_and_writes_as_the_notices_one_by_one(clean_db: str) -> None:
    """A batch of notices (``ledger_record_payments``) answers and writes what
    ``ledger_record_payment`` does called for each notice in order, in every case a
    notice can meet: the guard for any change to how a batch is applied."""
    world = _payment_world(clean_db)
    ids: dict[str, object] = world["ids"]  # type: ignore[assignment]
    amounts: dict[str, int] = world["amounts"]  # type: ignore[assignment]
    notices = [
        ("A", "paid"), ("A", "paid"),  # a second notice finds it paid by the first
        ("B", "closed"), ("B", "paid"),  # paid after closed: the money did arrive
        ("C", "wrong amount"),
        ("unknown", "paid"),
        ("D", "paid"),  # its organisation has no account: the credit is refused
        ("E", "paid"),  # paid before the batch
        ("F", "closed"),
        ("G", "closed"),
    ]  # fmt: skip
    batch = [
        {
            "deposit": str(ids.get(name, uuid.uuid4())),
            "amount": amounts.get(name, 1) + (1 if status == "wrong amount" else 0),
            "status": "paid" if status == "wrong amount" else status,
            "txn": f"txn-{name}-{n}",
            "world": "external:deposits",
        }
        for n, (name, status) in enumerate(notices)
    ]
    with psycopg.connect(libpq_url(clean_db)) as conn:
        together = [
            tuple(row[1:])
            for row in conn.execute(
                "SELECT ord, outcome, deposit_amount FROM ledger_record_payments(%s::jsonb) "
                "ORDER BY ord",
                (json.dumps(batch),),
            )
        ]
        state_together = _state(conn, list(ids.values()))
        conn.rollback()
        alone = [
            tuple(
                conn.execute(
                    "SELECT * FROM ledger_record_payment(%s, %s, %s, %s, %s)",
                    (n["deposit"], n["amount"], n["status"], n["txn"], n["world"]),
                ).fetchone()
                or ()
            )
            for n in batch
        ]
        state_alone = _state(conn, list(ids.values()))
        conn.rollback()
    assert together == alone
    assert [outcome for outcome, _ in together] == [
        "paid", "already_paid", "closed", "paid", "amount_mismatch", "not_found",
        "unknown_account", "already_paid", "closed", "closed",
    ]  # fmt: skip
    assert state_together == state_alone


async def test_an_organisation_lists_its_top_ups_page_by_page(client: httpx.AsyncClient) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    other_org = await create_org(client, owner, name="另一家")
    ids = []
    for n, amount in enumerate((10_000, 20_000, 30_000)):
        started = await start_deposit(client, owner, org_id, amount, f"list-{n}")
        ids.append(started.json()["id"])
    await start_deposit(client, owner, other_org, 40_000, "elsewhere")
    assert (await notify(client, ids[1], 20_000)).status_code == 200
    url = f"/api/v1/orgs/{org_id}/deposits"
    first = (await client.get(url, params={"limit": 2}, headers=owner.auth)).json()
    assert [d["id"] for d in first["items"]] == [ids[2], ids[1]]  # newest first
    rest = await client.get(
        url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=owner.auth
    )
    assert [d["id"] for d in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None
    paid = (await client.get(url, params={"status": "paid"}, headers=owner.auth)).json()
    assert [(d["id"], d["amount"]) for d in paid["items"]] == [(ids[1], 20_000)]
    for params in ({"status": "refunded"}, {"cursor": "nonsense"}, {"limit": 0}):
        refused = await client.get(url, params=params, headers=owner.auth)
        assert refused.status_code == 422, params
        assert refused.headers["content-type"].startswith("application/problem+json")
    stranger = await register(client)
    assert (await client.get(url, headers=stranger.auth)).status_code in (403, 404)


async def test_an_owner_closes_an_unpaid_top_up_and_the_checkout_then_takes_no_money(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    member = await register(client)
    await add_member(client, org_id, owner, member)
    deposit = (await start_deposit(client, owner, org_id, 30_000, "wrong-amount")).json()
    close = f"/api/v1/orgs/{org_id}/deposits/{deposit['id']}/close"
    refused = await client.post(close, headers=member.auth)
    assert refused.status_code == 403
    closed = await client.post(close, headers=owner.auth)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["checkout_url"] is None
    again = await client.post(close, headers=owner.auth)
    assert again.status_code == 200 and again.json()["status"] == "closed"
    # The provider closed its checkout: paying there now is refused and credits nothing.
    record = await provider(client).query_order(order_id=deposit["id"])
    assert record is not None and record.status == "closed"
    assert await balance(client, owner, org_id) == 0
    async with db.sessionmaker() as s:
        actions = (
            await s.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'ledger.deposit_closed'"
                     " AND data->>'deposit' = :id"),
                {"id": deposit["id"]},
            )
        ).scalar_one()  # fmt: skip
    assert actions == 1  # closing twice is closing once

    paid = (await start_deposit(client, owner, org_id, 500, "paid")).json()
    assert (await notify(client, paid["id"], 500)).status_code == 200
    too_late = await client.post(
        f"/api/v1/orgs/{org_id}/deposits/{paid['id']}/close",
        headers={**owner.auth, "Accept-Language": "en"},
    )
    assert too_late.status_code == 409
    assert too_late.json()["code"] == "deposit_not_open"
    assert "refund it" in too_late.json()["detail"]
    unknown = await client.post(
        f"/api/v1/orgs/{org_id}/deposits/{uuid.uuid4()}/close", headers=owner.auth
    )
    assert unknown.status_code == 404
    assert await balance(client, owner, org_id) == 500


async def test_a_top_up_paid_at_the_provider_while_being_closed_stays_open(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    deposit = (await start_deposit(client, owner, org_id, 700, "race")).json()
    # The payer paid at the provider; its notice has not reached us yet.
    await provider(client).record_payment(order_id=deposit["id"], amount=700, status="paid")
    refused = await client.post(
        f"/api/v1/orgs/{org_id}/deposits/{deposit['id']}/close",
        headers={**owner.auth, "Accept-Language": "en"},
    )
    assert refused.status_code == 409 and "just paid" in refused.json()["detail"]
    assert (await notify(client, deposit["id"], 700)).status_code == 200
    assert await balance(client, owner, org_id) == 700


async def started_earlier(db: Database, hours: int, *deposit_ids: str) -> None:
    """Move these top-ups' start ``hours`` into the past."""
    async with db.session_scope() as s:
        await s.execute(
            text("UPDATE ledger_deposits SET created_at = created_at - make_interval(hours => :h)"
                 " WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"h": hours, "ids": list(deposit_ids)},
        )  # fmt: skip


async def test_a_top_up_left_unpaid_closes_on_its_own_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    forgotten = (await start_deposit(client, owner, org_id, 900, "forgotten")).json()
    just_paid = (await start_deposit(client, owner, org_id, 600, "paid-late")).json()
    fresh = (await start_deposit(client, owner, org_id, 300, "fresh")).json()
    started = datetime.fromisoformat(fresh["created_at"])
    assert datetime.fromisoformat(fresh["expires_at"]) == started + timedelta(hours=24)
    await started_earlier(db, 25, forgotten["id"], just_paid["id"])
    # One was paid at the provider, but its notice never reached us.
    sandbox = provider(client)
    await sandbox.record_payment(order_id=just_paid["id"], amount=600, status="paid")
    # Two sweeps at once (two workers): each top-up is closed once, the paid one credited
    # once.
    sweeps = await asyncio.gather(
        *(deposit_service.expire_unpaid_deposits(db, sandbox, expiry_hours=24) for _ in range(2))
    )
    assert sorted(sweeps) == [0, 1]
    url = f"/api/v1/orgs/{org_id}/deposits"
    states = {
        d["id"]: (d["status"], d["expires_at"], d["checkout_url"])
        for d in (await client.get(url, headers=owner.auth)).json()["items"]
    }
    assert states[forgotten["id"]] == ("closed", None, None)
    assert states[just_paid["id"]] == ("paid", None, None)
    assert await balance(client, owner, org_id) == 600
    assert states[fresh["id"]][0] == "created" and states[fresh["id"]][1] is not None
    record = await sandbox.query_order(order_id=forgotten["id"])
    assert record is not None and record.status == "closed"  # its checkout takes nothing now
    async with db.sessionmaker() as s:
        entries = (
            await s.execute(
                text("SELECT actor_id, data FROM audit_log"
                     " WHERE action = 'ledger.deposit_expired' AND object_id = :org"),
                {"org": org_id},
            )
        ).all()  # fmt: skip
    assert len(entries) == 1
    assert entries[0].actor_id is None
    assert entries[0].data == {"deposit": forgotten["id"], "amount": 900, "expiry_hours": 24}
    # The lost notice arriving after all changes nothing; the sweep after finds nothing.
    assert (await notify(client, just_paid["id"], 600)).status_code == 200
    assert await deposit_service.expire_unpaid_deposits(db, sandbox, expiry_hours=24) == 0
    assert await balance(client, owner, org_id) == 600
    # An owner closing one the sweep closed first is told it is closed, not an error.
    closed = await client.post(f"{url}/{forgotten['id']}/close", headers=owner.auth)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


class ProviderDownFor(SandboxPaymentProvider):
    """The sandbox, unreachable for one order (a provider's outage as the sweep meets it)."""

    def __init__(self, sandbox: SandboxPaymentProvider, order_id: str) -> None:
        self.__dict__.update(sandbox.__dict__)
        self.down_for = order_id

    async def close_order(self, *, order_id: str) -> PaymentRecord | None:
        if order_id == self.down_for:
            raise httpx.ConnectError("the provider did not answer")
        return await super().close_order(order_id=order_id)


async def test_a_top_up_the_provider_cannot_answer_for_does_not_stop_the_others(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    stuck = (await start_deposit(client, owner, org_id, 100, "stuck")).json()
    later = (await start_deposit(client, owner, org_id, 200, "later")).json()
    await started_earlier(db, 30, stuck["id"], later["id"])
    flaky = ProviderDownFor(provider(client), stuck["id"])
    assert await deposit_service.expire_unpaid_deposits(db, flaky, expiry_hours=24) == 1
    url = f"/api/v1/orgs/{org_id}/deposits"
    states = {
        d["id"]: d["status"] for d in (await client.get(url, headers=owner.auth)).json()["items"]
    }
    assert states == {stuck["id"]: "created", later["id"]: "closed"}
    # The provider answers again: the next sweep closes it.
    assert await deposit_service.expire_unpaid_deposits(db, provider(client), expiry_hours=24) == 1


async def test_an_owner_asks_the_provider_about_a_top_up_whose_notice_was_lost(
    client: httpx.AsyncClient, db: Database
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    member = await register(client)
    await add_member(client, org_id, owner, member)
    deposit = (await start_deposit(client, owner, org_id, 4_200, "lost-notice")).json()
    check = f"/api/v1/orgs/{org_id}/deposits/{deposit['id']}/check"
    # Not paid yet: asking changes nothing, and it is still open to pay.
    waiting = await client.post(check, headers=owner.auth)
    assert waiting.status_code == 200, waiting.text
    assert waiting.json()["status"] == "created" and waiting.json()["checkout_url"]
    assert (await client.post(check, headers=member.auth)).status_code == 403
    stranger = await register(client)
    assert (await client.post(check, headers=stranger.auth)).status_code in (403, 404)
    # Paid at the provider; the notice is lost. Asking credits it, once.
    await provider(client).record_payment(order_id=deposit["id"], amount=4_200, status="paid")
    asked = await asyncio.gather(*(client.post(check, headers=owner.auth) for _ in range(3)))
    assert [a.json()["status"] for a in asked] == ["paid"] * 3
    assert asked[0].json()["checkout_url"] is None
    assert await balance(client, owner, org_id) == 4_200
    read = await client.get(f"/api/v1/orgs/{org_id}/deposits/{deposit['id']}", headers=owner.auth)
    assert read.json()["refundable_fen"] == 4_200
    # The notice turning up after all credits nothing more.
    assert (await notify(client, deposit["id"], 4_200)).status_code == 200
    assert await balance(client, owner, org_id) == 4_200
    async with db.sessionmaker() as s:
        credited = (
            await s.execute(
                select(func.count())
                .select_from(Transfer)
                .where(Transfer.idempotency_key == f"deposit:{deposit['id']}")
            )
        ).scalar_one()
    assert credited == 1
    unknown = await client.post(
        f"/api/v1/orgs/{org_id}/deposits/{uuid.uuid4()}/check", headers=owner.auth
    )
    assert unknown.status_code == 404


async def test_asking_the_provider_and_its_notice_at_the_same_moment_credit_once(
    client: httpx.AsyncClient,
) -> None:
    owner = await register(client)
    org_id = await create_org(client, owner)
    ids = [(await start_deposit(client, owner, org_id, 1_000 + n, f"both-{n}")).json()["id"]
           for n in range(5)]  # fmt: skip
    sandbox = provider(client)
    for n, deposit_id in enumerate(ids):
        await sandbox.record_payment(order_id=deposit_id, amount=1_000 + n, status="paid")
    calls = []
    for n, deposit_id in enumerate(ids):
        calls.append(notify(client, deposit_id, 1_000 + n))
        calls.append(
            client.post(f"/api/v1/orgs/{org_id}/deposits/{deposit_id}/check", headers=owner.auth)
        )
    answers = await asyncio.gather(*calls)
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert await balance(client, owner, org_id) == sum(1_000 + n for n in range(5))
