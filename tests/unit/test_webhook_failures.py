"""An attempt that got no answer is named by how it failed, in a code the pages put in
words, whatever the exception said."""

from __future__ import annotations

import socket
import ssl
from uuid import uuid4

import httpcore
import pytest

from xingdong.insights.delivery import FAILURES, _failure
from xingdong.insights.pages import ERROR_LABELS


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ssl.SSLCertVerificationError("certificate verify failed"), "tls failed"),
        (httpcore.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate"), "tls failed"),
        (httpcore.ConnectError("[Errno -2] Name or service not known"), "name not resolved"),
        (socket.gaierror(-2, "Name or service not known"), "name not resolved"),
        (httpcore.ConnectError("All connection attempts failed"), "connection failed"),
        (ConnectionRefusedError(111, "Connection refused"), "connection failed"),
        (httpcore.ReadError("peer closed"), "connection broken"),
    ],
)
def test_a_failure_is_named_by_its_kind(exc: BaseException, code: str) -> None:
    assert _failure(exc, uuid4()) == code


def test_every_failure_has_words() -> None:
    assert set(FAILURES) <= set(ERROR_LABELS)
