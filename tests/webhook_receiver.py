"""A brand's webhook receiver for tests: a real HTTP server on a free loopback port, in a
thread, that keeps what it was sent and answers with the statuses it is told to."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: deque[int] = deque()
        """Statuses to answer with, in turn; 200 once they run out."""
        self.url = ""
        self._lock = threading.Lock()

    def answer(self, *statuses: int) -> None:
        with self._lock:
            self.answers.extend(statuses)

    def _next_status(self) -> int:
        with self._lock:
            return self.answers.popleft() if self.answers else 200

    def _keep(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver._keep(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status = receiver._next_status()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002, ARG002 - quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/xingdong"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
