"""Money survives crashes: the server process is killed with SIGKILL in the middle of a
load of payments, restarted, and the provider retries; afterwards every invariant holds,
every payment answered "success" is in the ledger, and nothing was applied twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.e2e.conftest import ARTIFACTS, free_port
from xingdong.core.db import libpq_url
from xingdong.ledger.payments import SandboxPaymentProvider

SECRET = "crash-test-payment-secret"
DEPOSITS = 150
AMOUNT = 100


def start_server(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "XINGDONG_DATABASE_URL": database_url,
        "XINGDONG_SMS_REVEAL_CODES": "true",
        "XINGDONG_PAYMENT_SANDBOX_SECRET": SECRET,
        "XINGDONG_RATE_LIMIT_SMS_IP": "1000/hour",
        "XINGDONG_LOG_LEVEL": "WARNING",
    }
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "xingdong", "serve", "--port", str(port), "--no-worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    pytest.fail("the server did not start")


def prepare(base: str) -> tuple[str, str, list[str]]:
    """An owner, an organisation and DEPOSITS top-ups waiting for payment."""
    with httpx.Client(base_url=base) as http:
        phone = "13600000001"
        code = http.post("/api/v1/auth/sms-codes", json={"phone": phone}).json()["code"]
        token = http.post(
            "/api/v1/auth/register",
            json={"phone": phone, "code": code, "password": "crashTest2026"},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        org_id = http.post(
            "/api/v1/orgs", json={"kind": "brand", "name": "崩溃测试"}, headers=auth
        ).json()["id"]
        ids = [
            http.post(
                f"/api/v1/orgs/{org_id}/deposits",
                json={"amount_fen": AMOUNT},
                headers={**auth, "Idempotency-Key": f"d{n}"},
            ).json()["id"]
            for n in range(DEPOSITS)
        ]
    return token, org_id, ids


async def notify_all(base: str, ids: list[str], kill: subprocess.Popen[bytes] | None) -> set[str]:
    """Deliver every notification, 16 at a time; kill the server half-way if asked.
    Returns the deposits whose notification was answered "success"."""
    provider = SandboxPaymentProvider(SECRET)
    succeeded: set[str] = set()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for deposit_id in ids:
        queue.put_nowait(deposit_id)

    async def sender(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            deposit_id = queue.get_nowait()
            body = provider.notice_body(order_id=deposit_id, amount=AMOUNT)
            try:
                answer = await http.post(
                    "/api/v1/payments/sandbox/notify",
                    content=body,
                    headers={"X-Signature": provider.sign(body)},
                )
            except httpx.HTTPError:
                continue
            if answer.status_code == 200 and answer.text == "success":
                succeeded.add(deposit_id)
            if kill is not None and len(succeeded) == len(ids) // 2:
                kill.send_signal(signal.SIGKILL)

    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        await asyncio.gather(*(sender(http) for _ in range(16)))
    return succeeded


def test_killing_the_server_mid_load_loses_and_duplicates_nothing(clean_db: str) -> None:
    clean = clean_db
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = ARTIFACTS / "crash-server.log"
    ARTIFACTS.mkdir(exist_ok=True)
    server = start_server(clean, port, log)
    try:
        _token, org_id, ids = prepare(base)
        before = asyncio.run(notify_all(base, ids, kill=server))
        server.wait(timeout=10)
        assert server.returncode == -signal.SIGKILL
        assert 0 < len(before) < DEPOSITS
        with psycopg.connect(libpq_url(clean)) as conn:
            paid = {
                str(row[0])
                for row in conn.execute("SELECT id FROM ledger_deposits WHERE status = 'paid'")
            }
        # Everything answered "success" was committed before the answer left.
        assert before <= paid
        server = start_server(clean, port, log)
        after = asyncio.run(notify_all(base, ids, kill=None))
        assert after == set(ids)
    finally:
        server.kill()
        server.wait(timeout=10)
    with psycopg.connect(libpq_url(clean)) as conn:
        transfers = conn.execute(
            "SELECT count(*), sum(amount) FROM ledger_transfers WHERE code = 'deposit'"
        ).fetchone()
        balance = conn.execute(
            "SELECT credits_posted - debits_posted FROM ledger_accounts WHERE key = %s",
            (f"org:{org_id}:available",),
        ).fetchone()
        total = conn.execute(
            "SELECT sum(credits_posted - debits_posted) FROM ledger_accounts"
        ).fetchone()
    assert transfers == (DEPOSITS, DEPOSITS * AMOUNT)
    assert balance == (DEPOSITS * AMOUNT,)
    assert total == (0,)
