"""Imports every domain's models so that the metadata is complete (migrations, tests)."""

from __future__ import annotations


def import_all_models() -> None:
    import xingdong.core.audit
    import xingdong.identity.models
    import xingdong.ledger.models  # noqa: F401
