"""A delivery connects only to the address it checked: a host name that answers a public
address to the check and a loopback one to a second lookup (DNS rebinding) never gets a
connection to loopback."""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from uuid import uuid4

import pytest

from tests.integration.conftest import make_settings
from xingdong.insights import delivery

PUBLIC = "93.184.216.34"
"""A public address (TEST-NET ranges count as private) that nothing here listens on."""


async def test_a_rebinding_host_never_reaches_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    hits: list[bytes] = []

    async def listen(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(await reader.read(5))
        writer.close()

    server = await asyncio.start_server(listen, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    answers = iter([PUBLIC])
    lookups: list[str] = []

    async def rebinding(host: Any, service: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name == "rebind.attacker.example":
            address = next(answers, "127.0.0.1")
            lookups.append(address)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, service))]
        return await real(host, service, *args, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", rebinding)
    try:
        taken = delivery._Taken(
            url=f"https://rebind.attacker.example:{port}/hook",
            secret="whsec_x",
            body=b"{}",
            event_id=uuid4(),
            event_type="ping",
            attempt=1,
        )
        settings = make_settings(webhook_private_targets=False, webhook_timeout_seconds=2)
        sent = await delivery._send(taken, uuid4(), settings=settings)
    finally:
        monkeypatch.undo()
        server.close()
    assert lookups[0] == PUBLIC
    assert hits == []
    assert not sent.ok
