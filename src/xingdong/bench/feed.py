"""``xingdong bench feed``: the personal feed API on the real database.

One run, one server (one process unless asked for more, as ``xingdong serve``; no job
worker) on a scratch database with 2,000 live campaigns and 1,000 workers. Every worker
first opens the feed once, so that, as in steady state, each measured feed request also
learns from the slate shown before. Then each endpoint's peak (closed loop, 16
connections) for the feed and for the baseline, a FastAPI endpoint doing one single-row
SELECT on the same stack (``/readyz``); then the feed open-loop at 70% of its own peak,
requests sent on a fixed schedule whatever the answers do, latency counted from the
scheduled moment (so a slow answer delays the ones behind it and is counted, not hidden).
During each peak the server's CPU time (all its processes, from ``/proc``) is read, to
report what one request costs in process.

The three phases run in rounds, one after another in each: the speed of a shared machine
drifts from one ten-second window to the next by more than most changes to the feed, so
each round's ratio pairs two peaks measured side by side, and each round's open loop runs
at 70% of the peak measured just before it. The figures are the medians of the rounds;
the latencies are those of every round's requests together.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np

from xingdong.bench.http_client import KeepAliveConnection
from xingdong.bench.ledger import _drop, _recreate
from xingdong.campaigns.models import Campaign
from xingdong.core import collector
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
ROUNDS = 3
OTHER_WORK_WARNING = 0.1
"""Cores of other work in a round above which ``bench feed`` warns that its figures are
not the feed's alone."""
SERVER_PROCESSES = 1
"""As ``xingdong serve`` runs by default. On two cores shared with PostgreSQL and the load
generator, a second process has no core of its own: the open loop's p99 was 2-8 times
longer with two (bench/README.md, "One server process")."""
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
    in_flight_p99_ms: float = 0.0
    """The 99th percentile of the open loop's requests from sending to the answer: the
    rest of a latency is waiting for a free connection while all are busy."""
    campaigns: int = CAMPAIGNS
    workers: int = WORKERS
    server_processes: int = SERVER_PROCESSES
    baseline_cpu_ms: float | None = None
    """Server CPU per baseline request during its peak (None where ``/proc`` is missing)."""
    feed_cpu_ms: float | None = None
    round_ratios: list[float] = field(default_factory=list)
    """Each round's feed peak over its baseline peak."""
    round_p99_ms: list[float] = field(default_factory=list)
    round_slowdown: list[float | None] = field(default_factory=list)
    """Each round's slowest over fastest CPU time of a fixed piece of work, timed twice a
    second by a process beside the benchmark (None where it could not say)."""
    round_other_cores: list[float | None] = field(default_factory=list)
    """Each round's cores spent on work other than the benchmark, its server and
    PostgreSQL (None where ``/proc`` does not say)."""

    @property
    def ratio(self) -> float:
        """The median of the rounds' ratios (of the two peaks when there are none)."""
        if self.round_ratios:
            return float(np.median(self.round_ratios))
        return self.feed_peak_rps / self.baseline_rps if self.baseline_rps else 0.0

    def as_dict(self) -> dict[str, float | int | list[float] | list[float | None] | None]:
        return {
            "baseline_rps": round(self.baseline_rps, 1),
            "feed_peak_rps": round(self.feed_peak_rps, 1),
            "ratio": round(self.ratio, 3),
            "round_ratios": [round(r, 3) for r in self.round_ratios],
            "round_p99_ms": [round(p, 2) for p in self.round_p99_ms],
            "round_slowdown": [_rounded(x) for x in self.round_slowdown],
            "round_other_cores": [_rounded(x) for x in self.round_other_cores],
            "open_loop_rps": round(self.open_loop_rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "in_flight_p99_ms": round(self.in_flight_p99_ms, 2),
            "sent": self.sent,
            "errors": self.errors,
            "campaigns": self.campaigns,
            "workers": self.workers,
            "server_processes": self.server_processes,
            "baseline_cpu_ms": _rounded(self.baseline_cpu_ms),
            "feed_cpu_ms": _rounded(self.feed_cpu_ms),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _process_cpu_seconds(pid: int | str) -> float:
    """CPU time of one process and of its children that ended and were waited for (a live
    child is a process of its own); OSError, ValueError or IndexError where ``/proc``
    does not say."""
    # Fields after the command name, which is in parentheses and may hold spaces:
    # utime, stime, cutime, cstime.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[n]) for n in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(root: int) -> float | None:
    """CPU time used so far by a process and all its descendants (the server's workers),
    those that have ended included, or None where ``/proc`` does not say."""
    total = 0.0
    pending = [root]
    try:
        while pending:
            pid = pending.pop()
            total += _process_cpu_seconds(pid)
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
            pending.extend(int(child) for child in children.split())
    except (OSError, ValueError, IndexError):
        return None
    return total


def _machine_busy_seconds() -> float | None:
    """CPU time the whole machine has spent busy so far (every core), from ``/proc/stat``."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        # user, nice, system, irq, softirq, steal (idle and iowait are not busy)
        busy = sum(int(fields[n]) for n in (0, 1, 2, 5, 6, 7))
    except (OSError, ValueError, IndexError):
        return None
    return busy / os.sysconf("SC_CLK_TCK")


def _database_cpu_seconds() -> float:
    """CPU time used so far by the PostgreSQL processes now running."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if (entry / "comm").read_text().strip() == "postgres":
                total += _process_cpu_seconds(entry.name)
    return total


@contextlib.contextmanager
def _other_work(cores: list[float | None]) -> Iterator[None]:
    """How many cores the machine spent, while the block ran, on anything but this
    benchmark, its server and PostgreSQL (a demo or a test run beside it, say)."""
    began = time.perf_counter()
    busy, ours = _machine_busy_seconds(), _cpu_seconds(os.getpid())
    database = _database_cpu_seconds()
    try:
        yield
    finally:
        busy_after, ours_after = _machine_busy_seconds(), _cpu_seconds(os.getpid())
        if busy is None or ours is None or busy_after is None or ours_after is None:
            cores.append(None)
        else:
            other = (busy_after - busy) - (ours_after - ours)
            other -= _database_cpu_seconds() - database
            cores.append(max(other, 0.0) / (time.perf_counter() - began))


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


BALANCE_TRIES = 40
"""Connections opened and closed again, per connection kept, to spread them evenly."""


def _inodes(port: int, *, state: str, client_port: int | None = None) -> list[int]:
    """Inodes of the loopback sockets on ``port`` in ``state`` (``/proc/net/tcp``'s hex
    code: 0A listening, 01 established), from ``client_port`` if given."""
    try:
        rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return []
    found = []
    for row in rows:
        fields = row.split()
        if fields[3] != state or fields[1].rsplit(":", 1)[1] != f"{port:04X}":
            continue
        if client_port is None or fields[2].rsplit(":", 1)[1] == f"{client_port:04X}":
            found.append(int(fields[9]))
    return found


def _holds(pid: str, inode: int) -> bool:
    """Whether process ``pid`` holds the socket ``inode`` open."""
    target = f"socket:[{inode}]"
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if str(fd.readlink()) == target:
                    return True
    except OSError:
        return False
    return False


def _worker_processes(server: int, port: int) -> list[str]:
    """The server's worker processes: its children that accept on ``port`` (none when it
    serves in its own process). Not every child: multiprocessing's resource tracker is
    one, and counted as a worker it would be given a share of the connections it never
    accepts."""
    try:
        children = Path(f"/proc/{server}/task/{server}/children").read_text().split()
    except OSError:
        return []
    listening = _inodes(port, state="0A")
    return [child for child in children if any(_holds(child, inode) for inode in listening)]


async def _owner(workers: list[str], port: int, connection: KeepAliveConnection) -> int | None:
    """Which of the server's ``workers`` accepted ``connection`` (it may take a moment
    to), if ``/proc`` says."""
    client_port = connection.writer.get_extra_info("sockname")[1]
    for _ in range(50):
        for inode in _inodes(port, state="01", client_port=client_port)[:1]:
            for worker in workers:
                if _holds(worker, inode):
                    return int(worker)
        await asyncio.sleep(0.002)
    return None


async def _connections(port: int, server: int | None = None) -> list[KeepAliveConnection]:
    """``CONNECTIONS`` keep-alive connections. With the server's process id, spread evenly
    over its worker processes, as a balancer in front of them would: the kernel hands each
    new connection to whichever worker accepts first, and 4 of 16 on one worker and 12 on
    the other (seen) sends three quarters of an open loop at 70% of the peak to one worker,
    more than it can serve."""
    opened: list[KeepAliveConnection] = []
    per_worker: dict[int, int] = {}
    workers = [] if server is None else _worker_processes(server, port)
    most = -(-CONNECTIONS // max(len(workers), 1))
    tries = 0
    while len(opened) < CONNECTIONS:
        connection = await KeepAliveConnection.open("127.0.0.1", port)
        if server is None or len(workers) < 2:  # one process accepts all: nothing to spread
            opened.append(connection)
            continue
        await asyncio.sleep(0.005)
        owner = await _owner(workers, port, connection)
        if owner is not None and per_worker.get(owner, 0) >= most:
            tries += 1
            if tries <= BALANCE_TRIES * CONNECTIONS:
                await connection.close()
                continue
        if owner is not None:
            per_worker[owner] = per_worker.get(owner, 0) + 1
        opened.append(connection)
    return opened


async def _peak(
    port: int, path: str, tokens: list[str | None], seconds: float, server: int | None = None
) -> tuple[float, int]:
    """Requests a second with every connection busy, and how many were served."""
    connections = await _connections(port, server)
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


async def _each_once(port: int, path: str, tokens: list[str], server: int | None = None) -> None:
    connections = await _connections(port, server)

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
    rate, done = asyncio.run(_peak(port, path, tokens, seconds, server))
    cpu_after = _cpu_seconds(server)
    if cpu_before is None or cpu_after is None or not done:
        return rate, None
    return rate, (cpu_after - cpu_before) * 1000 / done


class OpenLoop(NamedTuple):
    latencies: list[float]
    """Milliseconds from each request's due moment to its answer."""
    in_flight: list[float]
    """Milliseconds from sending each request to its answer."""
    errors: int


async def _open_loop(
    port: int, tokens: list[str], rate: float, seconds: float, server: int | None = None
) -> OpenLoop:
    """Requests at ``rate`` a second on a fixed schedule; each latency counts from the
    moment its request was due.

    Each connection takes the next request due as soon as it is free (waiting for its
    moment if that has not come), so a request that finds every connection busy waits
    for the first to free up, and that wait counts. One coroutine a connection, not a
    task a request: the generator shares the machine with the server, and a task and a
    queue hand-over for each request cost it half as much CPU again."""
    connections = await _connections(port, server)
    latencies: list[float] = []
    in_flight: list[float] = []
    interval = 1.0 / rate
    total = int(seconds * rate)
    start = time.perf_counter() + 0.05
    claimed = 0
    errors = 0

    async def connection_loop(connection: KeepAliveConnection) -> None:
        nonlocal claimed, errors
        while claimed < total:
            n = claimed
            claimed += 1
            due = start + n * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = time.perf_counter()
            status, _body = await connection.get("/api/v1/tasks", _auth(tokens[n % len(tokens)]))
            answered = time.perf_counter()
            latencies.append((answered - due) * 1000)
            in_flight.append((answered - sent) * 1000)
            if status != 200:
                errors += 1

    try:
        await asyncio.gather(*(connection_loop(c) for c in connections))
    finally:
        for connection in connections:
            await connection.close()
    return OpenLoop(latencies, in_flight, errors)


@dataclass
class _Round:
    baseline_rps: float
    baseline_cpu_ms: float | None
    feed_rps: float
    feed_cpu_ms: float | None
    open_loop_rps: float
    latencies: list[float]
    in_flight: list[float]
    errors: int
    slowdown: float | None
    """The machine's speed in the round: the slowest CPU time of the probe's fixed work
    over its fastest (1 on a steady machine)."""
    other_cores: float | None
    """Cores spent on other work during the round (``_other_work``)."""


# A fixed piece of work timed in CPU time twice a second by a process of its own. The same
# work costs more CPU time while the hardware under it is shared (caches and cores taken
# by other processes, this benchmark's included, or by other machines on the host): how far
# a request's cost, and so the open loop's headroom, moved during a round.
_STEADINESS_PROBE = """
import os, sys, time
# Lowest priority: its CPU time for the fixed work still tells the machine's speed, and
# it no longer takes a core from the server for tens of milliseconds twice a second.
os.nice(19)
while True:
    started = time.process_time()
    total = 0
    for n in range(100_000):
        total += n * n
    print(time.process_time() - started, flush=True)
    time.sleep(0.5)
"""


@contextlib.contextmanager
def _steadiness(probes: list[float]) -> Iterator[None]:
    """Collect the probe's CPU seconds for its fixed work while the block runs."""
    # Into a file, not a pipe: a pipe read only at the end would fill in a long round and
    # stop the probe.
    with tempfile.TemporaryFile("w+") as out:
        probe = subprocess.Popen(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _STEADINESS_PROBE], stdout=out, text=True
        )
        try:
            yield
        finally:
            probe.terminate()
            probe.wait(timeout=10)
            out.seek(0)
            probes.extend(float(line) for line in out.read().split() if line)


def _round(server: int, port: int, tokens: list[str], seconds: float) -> _Round:
    """The baseline's peak, the feed's, then the feed open-loop at 70% of it."""
    probes: list[float] = []
    other: list[float | None] = []
    with _steadiness(probes), _other_work(other):
        baseline, baseline_cpu = _measured_peak(server, port, "/readyz", [None], seconds)
        peak, feed_cpu = _measured_peak(server, port, "/api/v1/tasks", list(tokens), seconds)
        if peak <= 0:
            raise RuntimeError(
                f"the feed answered no request in its {seconds:g} s peak phase: "
                "nothing to run open-loop at 70% of"
            )
        rate = peak * OPEN_LOOP_SHARE
        loop = asyncio.run(_open_loop(port, tokens, rate, seconds, server))
    slowdown = max(probes) / min(probes) if probes and min(probes) > 0 else None
    return _Round(
        baseline, baseline_cpu, peak, feed_cpu, rate, loop.latencies, loop.in_flight,
        loop.errors, slowdown, other[0],
    )  # fmt: skip


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.median(known)) if len(known) == len(values) and known else None


def run(
    server_url: str,
    *,
    seconds: float = 10.0,
    seed: int = 0,
    campaigns: int = CAMPAIGNS,
    workers: int = WORKERS,
    rounds: int = ROUNDS,
    server_processes: int = SERVER_PROCESSES,
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
            [sys.executable, "-m", "xingdong", "serve", "--port", str(port),
             "--workers", str(server_processes), "--no-worker"],
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
            # Warm the server's feed index and connection pools, and open every worker's
            # feed once: in steady state each feed request also learns from the slate the
            # person was shown before, and a first visit, which has none, is cheaper.
            asyncio.run(_each_once(port, "/api/v1/tasks", tokens, server.pid))
            # The load generator is a Python process too: a full collection over all it
            # has imported (seen once in a measured round: 135 ms) stalls it, and the
            # requests it sends late count against the feed. What exists before measuring
            # is left out of collections, as a server leaves it.
            with collector.settled():
                measured = [_round(server.pid, port, tokens, seconds) for _ in range(rounds)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        _drop(server_url, scratch)
    latencies = [ms for one in measured for ms in one.latencies]
    values = np.array(latencies) if latencies else np.zeros(1)
    return FeedFigures(
        baseline_rps=float(np.median([one.baseline_rps for one in measured])),
        feed_peak_rps=float(np.median([one.feed_rps for one in measured])),
        open_loop_rps=float(np.median([one.open_loop_rps for one in measured])),
        p50_ms=float(np.percentile(values, 50)),
        p99_ms=float(np.percentile(values, 99)),
        in_flight_p99_ms=float(
            np.percentile([ms for one in measured for ms in one.in_flight] or [0.0], 99)
        ),
        sent=len(latencies),
        errors=sum(one.errors for one in measured),
        campaigns=campaigns,
        workers=workers,
        server_processes=server_processes,
        baseline_cpu_ms=_median([one.baseline_cpu_ms for one in measured]),
        feed_cpu_ms=_median([one.feed_cpu_ms for one in measured]),
        round_ratios=[
            one.feed_rps / one.baseline_rps if one.baseline_rps else 0.0 for one in measured
        ],
        round_p99_ms=[
            float(np.percentile(one.latencies, 99)) if one.latencies else 0.0 for one in measured
        ],
        round_slowdown=[one.slowdown for one in measured],
        round_other_cores=[one.other_cores for one in measured],
    )
