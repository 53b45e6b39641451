"""uvicorn's HTTP/1.1 protocol (httptools), with the writes of one event-loop turn sent
together.

uvicorn writes a response's status line and headers as soon as the app sends
``http.response.start`` and its body on ``http.response.body``: two ``send`` calls, two
TCP segments, and the client is woken twice for one small answer. On a machine whose
cores are shared by the server, the database and the clients, each wake-up is a context
switch paid in CPU. Here what the connection writes during one turn of the event loop
is held and written once at the start of the next turn, so a head and a body sent one
after the other (as every non-streaming response is) leave in a single write. Large
writes (a file, a long stream) go out at once, so the transport's flow control still
sees them. ``xingdong serve`` runs uvicorn with this protocol.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HOLD_LIMIT = 64 * 1024
"""Bytes held for the next loop turn at most; a write that would pass this goes out now."""


class CoalescingTransport(asyncio.Transport):
    """A connection's transport whose writes within one loop turn go out as one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []
        self._held_size = 0
        self._flush_pending = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held_size + len(data) > HOLD_LIMIT:
            self.flush()
            self._transport.write(data)
            return
        self._held.append(bytes(data))
        self._held_size += len(data)
        if not self._flush_pending:
            self._flush_pending = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        self._held_size = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def close(self) -> None:
        # What was written before the close still goes out, as with the plain transport.
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held.clear()
        self._held_size = 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._held_size + self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a :class:`CoalescingTransport`."""

    # uvicorn narrows the argument the same way: the server hands it a socket transport.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))
