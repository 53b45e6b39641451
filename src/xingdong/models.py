"""Imports every domain's models so that the metadata is complete (migrations, tests)."""

from __future__ import annotations


def import_all_models() -> None:
    import xingdong.campaigns.models
    import xingdong.core.audit
    import xingdong.creators.models
    import xingdong.dispatch.models
    import xingdong.evidence.models
    import xingdong.identity.models
    import xingdong.insights.models
    import xingdong.ledger.models
    import xingdong.platforms.sandbox.models
    import xingdong.risk.models
    import xingdong.work.models  # noqa: F401
