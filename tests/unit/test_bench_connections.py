"""The feed benchmark spreads its connections evenly over the server's worker processes,
whichever of them the kernel hands each new connection to, and tells how much other work
the machine did while it measured."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from xingdong.bench.feed import (
    CONNECTIONS,
    _connections,
    _other_work,
    _owner,
    _worker_processes,
)

FORKED = 2
"""Worker processes of the test server (``bench feed --server-processes 2``)."""

# A server like uvicorn's with workers: the parent binds and listens, each forked worker
# accepts on the same socket (and ends when the parent is gone); the parent only waits.
# It has one more child that accepts nothing, as multiprocessing's resource tracker is a
# child of uvicorn's parent process: not a worker.
FORKING_SERVER = """
import os, socket, sys, time
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
listener.settimeout(0.2)
print(listener.getsockname()[1], flush=True)
parent = os.getpid()
for _ in range(int(sys.argv[1])):
    if os.fork() == 0:
        held = []
        while os.getppid() == parent:
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                pass
        os._exit(0)
if os.fork() == 0:
    listener.close()
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)
time.sleep(3600)
"""


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


@pytest.fixture(params=[FORKED])
def forking_server(request: pytest.FixtureRequest) -> Iterator[tuple[int, int]]:
    """A server of ``request.param`` forked workers: its process id and port."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc")
    process = subprocess.Popen(
        [sys.executable, "-c", FORKING_SERVER, str(request.param)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        # Ready when every child is forked, as the benchmark's server is when it answers.
        deadline = time.monotonic() + 10
        while len(_children(process.pid)) < request.param + 1:
            assert time.monotonic() < deadline, "the test server did not fork its children"
            time.sleep(0.01)
        # Exactly: the child that accepts nothing holds the listening socket from its fork
        # until it closes it, a moment in which it looks like one more worker.
        while len(_worker_processes(process.pid, port)) != request.param:
            assert time.monotonic() < deadline, "the test server did not fork its workers"
            time.sleep(0.01)
        yield process.pid, port
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


async def test_connections_are_spread_evenly_over_the_worker_processes(
    forking_server: tuple[int, int],
) -> None:
    server, port = forking_server
    connections = await _connections(port, server)
    try:
        workers = _worker_processes(server, port)
        owners = [await _owner(workers, port, c) for c in connections]
    finally:
        for connection in connections:
            await connection.close()
    assert len(connections) == CONNECTIONS
    assert None not in owners
    split = Counter(owners)
    assert len(split) == FORKED
    assert set(split.values()) == {CONNECTIONS // FORKED}


async def test_without_the_server_s_process_id_they_are_opened_as_they_come(
    forking_server: tuple[int, int],
) -> None:
    _server, port = forking_server
    connections = await _connections(port)
    for connection in connections:
        await connection.close()
    assert len(connections) == CONNECTIONS


@pytest.mark.parametrize("forking_server", [0, FORKED], indirect=True)
async def test_the_server_s_processes_are_read_from_proc(
    forking_server: tuple[int, int], request: pytest.FixtureRequest
) -> None:
    # A server serving in its own process has none to spread over: each connection is
    # kept as it is opened (none is asked for its owner, which could not be said).
    server, port = forking_server
    assert len(_worker_processes(server, port)) == request.node.callspec.params["forking_server"]
    connections = await _connections(port, server)
    for connection in connections:
        await connection.close()
    assert len(connections) == CONNECTIONS


def _outside_work_three_ways() -> tuple[float, float, float]:
    """Cores the machine spent outside the benchmark while it was idle, while a child of
    it spun for 1.5 s, and while a process that is nobody's child here spun as long."""
    spin = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass"
    quiet: list[float | None] = []
    with _other_work(quiet):
        time.sleep(1.5)
    ours: list[float | None] = []
    with _other_work(ours):
        # A child of this process: the benchmark's own (its server is one).
        subprocess.run([sys.executable, "-c", spin], check=True)
    # A process left behind by a shell that has ended is nobody's child here: other work.
    others: list[float | None] = []
    with _other_work(others):
        subprocess.run(["sh", "-c", f"{sys.executable} -c '{spin}' &"], check=True)
        time.sleep(1.5)
    assert quiet[0] is not None and ours[0] is not None and others[0] is not None
    return quiet[0], ours[0], others[0]


@pytest.mark.serial  # other tests running beside it would be work outside it too
def test_work_outside_the_benchmark_is_counted_and_its_own_is_not() -> None:
    if not Path("/proc/stat").exists():
        pytest.skip("needs Linux /proc")
    # Whatever else the machine runs meanwhile (other test runs) is counted too, and can
    # rise in one window and not the next; it only ever adds. So a few tries: the one
    # where the machine stayed level shows the spinning child not counted and the
    # stranger counted. Counting the child, or missing the stranger, fails every try.
    for _ in range(3):
        quiet, ours, others = _outside_work_three_ways()
        if ours < quiet + 0.4 and others > quiet + 0.5:
            break
    assert ours < quiet + 0.4
    assert others > quiet + 0.5
