"""Imports every domain's models so that the metadata is complete (migrations, tests)."""

from __future__ import annotations


def import_all_models() -> None:
    import xingdong.core.audit
    import xingdong.evidence.models
    import xingdong.identity.models
    import xingdong.ledger.models
    import xingdong.platforms.sandbox.models  # noqa: F401
