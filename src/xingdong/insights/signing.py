"""How a webhook proves it came from us: an HMAC-SHA256 of the delivery's time and its
exact body, keyed with the endpoint's secret (the receiver's side is in
docs/integrations.md)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Xingdong-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
TOLERANCE_SECONDS = 300
"""How old a signature a receiver should accept: older ones may be replays."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Xingdong-Signature`` header of ``body`` sent at ``timestamp`` (Unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(
    secret: str, body: bytes, header: str, *, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds of
    ``now``: what a receiver does with every request."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    sent = parts.get("v1", "")
    if abs(now - timestamp) > tolerance:
        return False
    # Compared as bytes: a header with characters outside ASCII is simply not a match.
    return hmac.compare_digest(_mac(secret, timestamp, body).encode(), sent.encode())
