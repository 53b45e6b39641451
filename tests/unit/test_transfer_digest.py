"""The digest stored beside each transfer's idempotency key must not change: a retry of a
request made before an upgrade has to match the digest stored then."""

from __future__ import annotations

from dataclasses import asdict, fields

import pytest

from xingdong.ledger.service import TransferRequest, request_digest, transfer_digest

PLAIN = TransferRequest("k-1", "person:a:available", "campaign:c:escrow", 1250, "fund")
FULL = TransferRequest(
    "k-2",
    "org:x:available",
    "campaign:c:escrow",
    99,
    "reserve",
    asset="PTS",
    reference="campaign:c",
    pending=True,
    timeout_seconds=600,
    meta={"z": [1, 2], "a": {"y": "是", "b": None}},
)


@pytest.mark.parametrize(
    ("request_", "stored"),
    [
        (PLAIN, "7d231984afa1b7325a8dedc9302d91b7b08440cea3885d79368ce83c61eaadad"),
        (FULL, "d4d9a00eef276a483a0db34e9084c6cfa45e9e31d21aadac3ae68e8793354286"),
    ],
)
def test_the_digest_matches_digests_stored_before(request_: TransferRequest, stored: str) -> None:
    assert transfer_digest(request_) == stored


@pytest.mark.parametrize("request_", [PLAIN, FULL])
def test_the_digest_is_the_digest_of_every_field(request_: TransferRequest) -> None:
    assert transfer_digest(request_) == request_digest(asdict(request_))


def test_every_field_changes_the_digest() -> None:
    """A field added to the request must be added to the digest too."""
    changed = {
        "idempotency_key": "k-3",
        "debit": "person:b:available",
        "credit": "campaign:d:escrow",
        "amount": 1251,
        "code": "refund",
        "asset": "PTS",
        "reference": "x",
        "pending": True,
        "timeout_seconds": 60,
        "meta": {"n": 1},
    }
    assert set(changed) == {f.name for f in fields(TransferRequest)}
    for name, value in changed.items():
        other = TransferRequest(**{**asdict(PLAIN), name: value})
        assert transfer_digest(other) != transfer_digest(PLAIN), name
