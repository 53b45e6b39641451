"""The feed benchmark's open loop sends on its schedule whatever the server does, and counts
each request's latency from the moment it was due, so time spent waiting for a free
connection counts (no coordinated omission)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from xingdong.bench.feed import CONNECTIONS, _open_loop

SERVICE_S = 0.05


@pytest.fixture
async def slow_server() -> AsyncIterator[tuple[int, list[float]]]:
    """An HTTP/1.1 keep-alive server that answers every request after ``SERVICE_S``; it
    notes when each request arrived."""
    arrivals: list[float] = []
    loop = asyncio.get_running_loop()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # until the client closes (readuntil raises at the end)
            await reader.readuntil(b"\r\n\r\n")
            arrivals.append(loop.time())
            await asyncio.sleep(SERVICE_S)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port, arrivals


async def test_under_capacity_every_request_takes_the_service_time(
    slow_server: tuple[int, list[float]],
) -> None:
    port, arrivals = slow_server
    latencies, in_flight, errors = await _open_loop(port, ["t"], rate=100.0, seconds=0.5)
    assert (len(latencies), len(in_flight), errors, len(arrivals)) == (50, 50, 0, 50)
    # Nothing waits for a connection: sent when due, each latency is its time in flight.
    # (Nine in ten: a request a busy machine held up 30 ms failed the largest once in CI;
    # a generator that made requests wait for a connection here would delay most.)
    waits = sorted(a - b for a, b in zip(sorted(latencies), sorted(in_flight), strict=True))
    assert waits[len(waits) * 9 // 10] < 20
    assert min(latencies) >= SERVICE_S * 1000
    assert sorted(latencies)[len(latencies) // 2] < SERVICE_S * 1000 * 2
    # Sent on the schedule: the arrivals are spread over the half second, not bunched.
    assert 0.4 < arrivals[-1] - arrivals[0] < 0.6


async def test_over_capacity_the_wait_for_a_connection_counts(
    slow_server: tuple[int, list[float]],
) -> None:
    port, _arrivals = slow_server
    capacity = CONNECTIONS / SERVICE_S
    rate = capacity * 2
    latencies, in_flight, errors = await _open_loop(port, ["t"], rate=rate, seconds=0.5)
    assert (len(latencies), errors) == (int(rate * 0.5), 0)
    # In flight, a request took the service time; the rest of its latency was the wait
    # for a connection, which the latency counts and the time in flight does not. (The
    # median: one request that a busy machine held up must not fail the test, and a
    # generator that counted the wait in flight would have a median near three times the
    # service time.)
    assert sorted(in_flight)[len(in_flight) // 2] < 2 * SERVICE_S * 1000
    assert all(total >= sent for total, sent in zip(latencies, in_flight, strict=True))
    # Twice what the connections can carry: by the end a request has waited about as long
    # as the run was (the half of the requests that did not fit), far beyond the service
    # time; a generator that started the clock at sending would see 50 ms throughout.
    assert max(latencies) > 0.2 * 1000
    assert latencies[-1] > 4 * SERVICE_S * 1000
