"""Money as people read it: amounts are kept in fen (integers) everywhere, and shown in
yuan."""

from __future__ import annotations


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, without the sign (texts write ``¥{…}``)."""
    return f"{fen / 100:.2f}"
