"""The real server process: what only a server on a socket shows."""

from __future__ import annotations

import itertools

import httpx

_phones = itertools.count(15500000000)


def test_a_change_is_committed_before_its_answer_leaves(site: str) -> None:
    """The next request, sent the moment an answer arrives, always sees the change: a code
    just sent can be used at once."""
    with httpx.Client(base_url=site) as http:
        for _ in range(40):
            phone = str(next(_phones))
            sent = http.post("/api/v1/auth/sms-codes", json={"phone": phone})
            assert sent.status_code == 201, sent.text  # a refusal's "code" is its problem's
            code = sent.json()["code"]
            response = http.post(
                "/api/v1/auth/register",
                json={"phone": phone, "code": code, "password": "goodPass2026"},
            )
            assert response.status_code == 201, response.text


def test_the_in_process_worker_runs_jobs(site: str, database_url: str) -> None:
    """``serve`` runs a job worker: a purge job made due now is done within seconds."""
    import time

    import psycopg

    from xingdong.core.db import libpq_url

    with httpx.Client(base_url=site) as http:
        http.post("/api/v1/auth/sms-codes", json={"phone": str(next(_phones))})
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute("UPDATE sms_codes SET expires_at = now() - interval '1 second'")
        conn.execute("UPDATE procrastinate_jobs SET scheduled_at = now()")
        # Wake the worker as a fresh deferral would.
        conn.execute(
            "SELECT pg_notify('procrastinate_any_queue_v1', '{\"type\": \"job_inserted\"}')"
        )
        deadline = time.monotonic() + 15
        remaining = None
        while time.monotonic() < deadline:
            remaining = conn.execute("SELECT count(*) FROM sms_codes").fetchone()
            if remaining == (0,):
                break
            time.sleep(0.2)
    assert remaining == (0,)


def test_a_lost_answer_after_commit_is_retried_safely(site: str, database_url: str) -> None:
    """The client sends a withdrawal and hangs up before reading the answer (it cannot
    know whether it committed); retrying with the same Idempotency-Key gives the same
    withdrawal and reserves the money once."""
    import json
    import socket
    import time
    from urllib.parse import urlsplit
    from uuid import UUID

    import psycopg

    from xingdong.core.db import Database, libpq_url
    from xingdong.ledger import service as ledger
    from xingdong.ledger.wallets import available_account, open_wallet

    phone = str(next(_phones))
    with httpx.Client(base_url=site) as http:
        code = http.post("/api/v1/auth/sms-codes", json={"phone": phone}).json()["code"]
        token = http.post(
            "/api/v1/auth/register",
            json={"phone": phone, "code": code, "password": "goodPass2026"},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        person_id = http.get("/api/v1/me", headers=auth).json()["id"]
        http.put(
            "/api/v1/me/payout-account",
            json={"kind": "bank", "number": "6222500011112222", "holder_name": "王小明"},
            headers=auth,
        )

    async def fund() -> None:
        db = Database(database_url, pool_size=1)
        async with db.session_scope() as s:
            await ledger.open_account(s, ledger.AccountSpec("external:rewards"))
            await open_wallet(s, UUID(person_id))
            await ledger.transfer(
                s,
                ledger.TransferRequest(
                    "fund-lost",
                    "external:rewards",
                    available_account(UUID(person_id)),
                    10_000,
                    "reward",
                ),
            )
        await db.dispose()

    import asyncio

    asyncio.run(fund())
    body = json.dumps({"amount_fen": 3_000}).encode()
    parts = urlsplit(site)
    request = (
        f"POST /api/v1/me/withdrawals HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: lost-1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection((parts.hostname, parts.port)) as raw:
        raw.sendall(request)
        raw.shutdown(socket.SHUT_RDWR)  # hang up without reading the answer
    time.sleep(0.5)
    with httpx.Client(base_url=site) as http:
        retry = http.post(
            "/api/v1/me/withdrawals",
            json={"amount_fen": 3_000},
            headers={**auth, "Idempotency-Key": "lost-1"},
        )
        again = http.post(
            "/api/v1/me/withdrawals",
            json={"amount_fen": 3_000},
            headers={**auth, "Idempotency-Key": "lost-1"},
        )
        wallet = http.get("/api/v1/me/wallet", headers=auth).json()
    assert retry.status_code == again.status_code == 201
    assert retry.json()["id"] == again.json()["id"]
    with psycopg.connect(libpq_url(database_url)) as conn:
        count = conn.execute(
            "SELECT count(*) FROM ledger_withdrawals WHERE person_id = %s", (person_id,)
        ).fetchone()
    assert count == (1,)
    # Taken once: reserved, or already paid out by the server's worker.
    assert wallet["available_fen"] == 7_000
    assert wallet["reserved_fen"] in (0, 3_000)
