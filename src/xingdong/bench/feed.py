"""``xingdong bench feed``: the personal feed API on the real database.

One run, one server (2 workers, no job worker) on a scratch database with 2,000 live
campaigns and 1,000 workers. Every worker first opens the feed once, so that, as in steady
state, each measured feed request also learns from the slate shown before. Then each
endpoint's peak (closed loop, 16 connections) for the feed and for the baseline, a FastAPI
endpoint doing one single-row SELECT on the same stack (``/readyz``); then the feed
open-loop at 70% of its own peak, requests sent on a fixed schedule whatever the answers
do, latency counted from the scheduled moment (so a slow answer delays the ones behind it
and is counted, not hidden). During each peak the
server's CPU time (all its processes, from ``/proc``) is read, to report what one request
costs in process.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from xingdong.bench.http_client import KeepAliveConnection
from xingdong.bench.ledger import _drop, _recreate
from xingdong.campaigns.models import Campaign
from xingdong.core.clock import utcnow
from xingdong.core.db import Database
from xingdong.core.ids import new_id
from xingdong.core.migrate import upgrade
from xingdong.core.security import new_token, token_digest
from xingdong.core.settings import Settings
from xingdong.identity.models import ApiToken, Consent, Organisation, Person, PlatformAccount
from xingdong.identity.validation import INTERESTS, REGIONS

CAMPAIGNS = 2_000
WORKERS = 1_000
CONNECTIONS = 16
OPEN_LOOP_SHARE = 0.7
NO_PASSWORD = "-"  # noqa: S105 - not a hash: these people cannot sign in with a password
TASK_TYPES = ("follow", "like", "comment", "share", "live_visit", "shoot")


@dataclass
class FeedFigures:
    baseline_rps: float
    feed_peak_rps: float
    open_loop_rps: float
    p50_ms: float
    p99_ms: float
    sent: int
    errors: int
    campaigns: int = CAMPAIGNS
    workers: int = WORKERS
    baseline_cpu_ms: float | None = None
    """Server CPU per baseline request during its peak (None where ``/proc`` is missing)."""
    feed_cpu_ms: float | None = None

    @property
    def ratio(self) -> float:
        return self.feed_peak_rps / self.baseline_rps if self.baseline_rps else 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "baseline_rps": round(self.baseline_rps, 1),
            "feed_peak_rps": round(self.feed_peak_rps, 1),
            "ratio": round(self.ratio, 3),
            "open_loop_rps": round(self.open_loop_rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "sent": self.sent,
            "errors": self.errors,
            "campaigns": self.campaigns,
            "workers": self.workers,
            "baseline_cpu_ms": _rounded(self.baseline_cpu_ms),
            "feed_cpu_ms": _rounded(self.feed_cpu_ms),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _cpu_seconds(root: int) -> float | None:
    """CPU time used so far by a process and all its descendants (the server's workers),
    or None where ``/proc`` does not say."""
    total = 0.0
    pending = [root]
    tick = os.sysconf("SC_CLK_TCK")
    try:
        while pending:
            pid = pending.pop()
            # Fields after the command name, which is in parentheses and may hold spaces.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
            pending.extend(int(child) for child in children.split())
    except (OSError, ValueError, IndexError):
        return None
    return total


async def _seed(url: str, rng: random.Random, campaigns: int, workers: int) -> list[str]:
    """Campaigns, workers with profiles, consent and a bound account; their API tokens."""
    db = Database(url, pool_size=2)
    settings = Settings(database_url=url)
    now = utcnow()
    interests = list(INTERESTS)
    tokens: list[str] = []
    try:
        async with db.session_scope() as s:
            owner = Person(
                id=new_id(), phone="+8613000000000", password_hash=NO_PASSWORD, display_name="品牌"
            )
            s.add(owner)
            await s.flush()
            orgs = [
                Organisation(id=new_id(), kind="brand", name=f"品牌{n}", created_by=owner.id)
                for n in range(200)
            ]
            s.add_all(orgs)
            await s.flush()
            for n in range(campaigns):
                price = rng.choice((50, 100, 150, 200, 300, 500))
                reward = price * 4 // 5
                s.add(
                    Campaign(
                        id=new_id(), org_id=orgs[n % len(orgs)].id, created_by=owner.id,
                        title=f"任务{n}", task_type=rng.choice(TASK_TYPES), platform="sandbox",
                        target_kind="account", target_ref=f"brand_{n}", target_title=f"品牌号{n}",
                        target_url=f"/sandbox/@brand_{n}", brief="做任务", disclosure="广告",
                        quantity=rng.randint(50, 500), unit_price=price, reward=reward,
                        fee=price - reward, per_person_limit=1,
                        starts_at=now - timedelta(hours=rng.randint(1, 48)),
                        ends_at=now + timedelta(hours=rng.randint(12, 96)),
                        min_age=rng.choice((None, 18, 22)), max_age=rng.choice((None, 35, 50)),
                        regions=rng.sample(REGIONS, rng.choice((0, 0, 3, 8))),
                        interests=rng.sample(interests, rng.choice((1, 2, 3))),
                        tiers=[], pacing_per_hour=60, status="live",
                    )
                )  # fmt: skip
            for n in range(workers):
                person = Person(
                    id=new_id(), phone=f"+86139{n:08d}", password_hash=NO_PASSWORD,
                    display_name=f"用户{n}", birth_year=rng.randint(1970, 2004),
                    region=rng.choice(REGIONS), interests=rng.sample(interests, 2),
                )  # fmt: skip
                s.add(person)
                await s.flush()
                s.add(Consent(person_id=person.id, agreement_version=settings.agreement_version))
                s.add(
                    PlatformAccount(
                        person_id=person.id, platform="sandbox", handle=f"w{n}",
                        followers=rng.choice((10, 500, 5_000, 200_000)),
                    )
                )  # fmt: skip
                token = new_token()
                s.add(
                    ApiToken(
                        token_digest=token_digest(token), person_id=person.id, name="bench",
                        expires_at=now + timedelta(days=1),
                    )
                )  # fmt: skip
                tokens.append(token)
    finally:
        await db.dispose()
    return tokens


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def _connections(port: int) -> list[KeepAliveConnection]:
    opened = []
    for _ in range(CONNECTIONS):
        opened.append(await KeepAliveConnection.open("127.0.0.1", port))
        await asyncio.sleep(0.005)
    return opened


async def _peak(
    port: int, path: str, tokens: list[str | None], seconds: float
) -> tuple[float, int]:
    """Requests a second with every connection busy, and how many were served."""
    connections = await _connections(port)
    stop_at = time.perf_counter() + seconds
    done = 0

    async def client(connection: KeepAliveConnection, offset: int) -> None:
        nonlocal done
        n = offset
        while time.perf_counter() < stop_at:
            status, _body = await connection.get(path, _auth(tokens[n % len(tokens)]))
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            n += CONNECTIONS
            done += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(c, i) for i, c in enumerate(connections)))
    finally:
        for connection in connections:
            await connection.close()
    return done / (time.perf_counter() - started), done


async def _each_once(port: int, path: str, tokens: list[str]) -> None:
    connections = await _connections(port)

    async def client(connection: KeepAliveConnection, offset: int) -> None:
        for token in tokens[offset::CONNECTIONS]:
            status, _body = await connection.get(path, _auth(token))
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")

    try:
        await asyncio.gather(*(client(c, i) for i, c in enumerate(connections)))
    finally:
        for connection in connections:
            await connection.close()


def _measured_peak(
    server: int, port: int, path: str, tokens: list[str | None], seconds: float
) -> tuple[float, float | None]:
    """The peak rate, and the server's CPU milliseconds per request during it."""
    cpu_before = _cpu_seconds(server)
    rate, done = asyncio.run(_peak(port, path, tokens, seconds))
    cpu_after = _cpu_seconds(server)
    if cpu_before is None or cpu_after is None or not done:
        return rate, None
    return rate, (cpu_after - cpu_before) * 1000 / done


async def _open_loop(
    port: int, tokens: list[str], rate: float, seconds: float
) -> tuple[list[float], int]:
    """Requests at ``rate`` a second on a fixed schedule; each latency counts from the
    moment its request was due."""
    connections = await _connections(port)
    idle: asyncio.Queue[KeepAliveConnection] = asyncio.Queue()
    for connection in connections:
        idle.put_nowait(connection)
    latencies: list[float] = []
    errors = 0
    interval = 1.0 / rate
    start = time.perf_counter() + 0.05

    async def one(n: int, due: float) -> None:
        nonlocal errors
        connection = await idle.get()
        try:
            status, _body = await connection.get("/api/v1/tasks", _auth(tokens[n % len(tokens)]))
        finally:
            idle.put_nowait(connection)
        latencies.append((time.perf_counter() - due) * 1000)
        if status != 200:
            errors += 1

    pending = []
    n = 0
    while True:
        due = start + n * interval
        if due - start >= seconds:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.ensure_future(one(n, due)))
        n += 1
    await asyncio.gather(*pending)
    for connection in connections:
        await connection.close()
    return latencies, errors


def run(
    server_url: str,
    *,
    seconds: float = 10.0,
    seed: int = 0,
    campaigns: int = CAMPAIGNS,
    workers: int = WORKERS,
) -> FeedFigures:
    import httpx

    scratch = f"xingdong_bench_feed_{os.getpid()}"
    target = _recreate(server_url, scratch)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "XINGDONG_DATABASE_URL": target,
        "XINGDONG_LOG_LEVEL": "WARNING",
    }
    try:
        upgrade(target)
        rng = random.Random(seed)  # noqa: S311 - generated test data
        tokens = asyncio.run(_seed(target, rng, campaigns, workers))
        server = subprocess.Popen(  # noqa: S603 - our own command
            [sys.executable, "-m", "xingdong", "serve", "--port", str(port), "--workers", "2",
             "--no-worker"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            # Warm both workers' feed index and connection pools, and open every worker's
            # feed once: in steady state each feed request also learns from the slate the
            # person was shown before, and a first visit, which has none, is cheaper.
            asyncio.run(_each_once(port, "/api/v1/tasks", tokens))
            baseline, baseline_cpu = _measured_peak(server.pid, port, "/readyz", [None], seconds)
            peak, feed_cpu = _measured_peak(
                server.pid, port, "/api/v1/tasks", list(tokens), seconds
            )
            rate = peak * OPEN_LOOP_SHARE
            latencies, errors = asyncio.run(_open_loop(port, tokens, rate, seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        _drop(server_url, scratch)
    values = np.array(latencies) if latencies else np.zeros(1)
    return FeedFigures(
        baseline_rps=baseline,
        feed_peak_rps=peak,
        open_loop_rps=rate,
        p50_ms=float(np.percentile(values, 50)),
        p99_ms=float(np.percentile(values, 99)),
        sent=len(latencies),
        errors=errors,
        campaigns=campaigns,
        workers=workers,
        baseline_cpu_ms=baseline_cpu,
        feed_cpu_ms=feed_cpu,
    )
