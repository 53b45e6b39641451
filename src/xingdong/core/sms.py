"""Sending SMS through a pluggable sender chosen by the ``sms_sender`` setting."""

from __future__ import annotations

from typing import Protocol

from xingdong.core.logging import get_logger

log = get_logger(__name__)


class SmsSender(Protocol):
    async def send(self, *, phone: str, text: str) -> None: ...


class ConsoleSmsSender:
    """Writes the message to the server log instead of sending it (development, demo)."""

    async def send(self, *, phone: str, text: str) -> None:
        log.info("sms_sent", phone=phone, text=text)


def build_sms_sender(name: str) -> SmsSender:
    if name == "console":
        return ConsoleSmsSender()
    raise ValueError(f"unknown SMS sender {name!r}")
