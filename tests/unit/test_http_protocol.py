"""A response's writes within one loop turn leave the server as one."""

from __future__ import annotations

import asyncio

from xingdong.web.http_protocol import HOLD_LIMIT, CoalescingTransport


class Recorded(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[object] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.events.append(bytes(data))

    def close(self) -> None:
        self.events.append("close")
        self.closing = True

    def abort(self) -> None:
        self.events.append("abort")
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 0


async def test_head_and_body_go_out_in_one_write_on_the_next_turn() -> None:
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"success")
    assert inner.events == []
    assert transport.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\nsuccess")
    await asyncio.sleep(0)
    assert inner.events == [b"HTTP/1.1 200 OK\r\n\r\nsuccess"]


async def test_close_sends_what_was_written_first() -> None:
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"head")
    transport.write(b"body")
    transport.close()
    await asyncio.sleep(0)
    assert inner.events == [b"headbody", "close"]


async def test_abort_drops_what_was_held() -> None:
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"head")
    transport.abort()
    await asyncio.sleep(0)
    assert inner.events == ["abort"]


async def test_a_large_write_goes_out_at_once_after_what_was_held() -> None:
    inner = Recorded()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    large = b"x" * HOLD_LIMIT
    transport.write(b"head")
    transport.write(large)
    assert inner.events == [b"head", large]
    await asyncio.sleep(0)
    assert inner.events == [b"head", large]
