"""Money as people read it: amounts are kept in fen (integers) everywhere, and shown in
yuan."""

from __future__ import annotations


def _yuan(fen: int, grouping: str) -> str:
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole:{grouping}}.{cents:02d}"


def yuan(fen: int) -> str:
    """Fen as yuan for people to read: two decimals, thousands grouped (``13,488.00``),
    without the sign (texts write ``¥{…}``)."""
    return _yuan(fen, ",")


def plain_yuan(fen: int) -> str:
    """Fen as yuan for machines and forms: two decimals, no grouping (``13488.00``), as
    spreadsheets read a number and as a form field is typed."""
    return _yuan(fen, "")
