"""What one process holds: settings, the database, rate limits and outside services.

Built once by the app factory or the worker command; jobs reach it through
:func:`current_runtime` because procrastinate calls them without our arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from xingdong.core.db import Database
from xingdong.core.ratelimit import RateLimits
from xingdong.core.settings import Settings
from xingdong.core.sms import SmsSender, build_sms_sender
from xingdong.evidence.storage import EvidenceStorage, LocalFolderStorage
from xingdong.ledger.payments import PaymentProvider, PayoutProvider, build_payment_provider
from xingdong.ledger.sandbox_payouts import SandboxPayoutProvider
from xingdong.platforms.connector import PlatformConnector, build_connectors


@dataclass
class Runtime:
    settings: Settings
    db: Database
    limits: RateLimits
    sms: SmsSender
    payments: PaymentProvider
    payouts: PayoutProvider
    evidence: EvidenceStorage
    platforms: dict[str, PlatformConnector] = field(default_factory=dict)
    """Short-video platform connectors by name (see :func:`platforms.connector.get_connector`)."""


_current: Runtime | None = None


def build_runtime(settings: Settings, database_url: str) -> Runtime:
    global _current  # noqa: PLW0603 - one runtime per process, set once at start-up
    db = Database(database_url)
    runtime = Runtime(
        settings=settings,
        db=db,
        limits=RateLimits(settings.redis_url),
        sms=build_sms_sender(settings.sms_sender),
        payments=build_payment_provider(
            settings.payment_provider, settings.payment_sandbox_secret.get_secret_value(), db
        ),
        payouts=SandboxPayoutProvider(db),
        evidence=build_evidence_storage(settings),
        platforms=build_connectors(db),
    )
    _current = runtime
    return runtime


def build_evidence_storage(settings: Settings) -> EvidenceStorage:
    if settings.evidence_storage == "s3":
        from xingdong.evidence.s3_storage import S3Storage

        return S3Storage.from_settings(settings)
    return LocalFolderStorage(settings.evidence_dir)


def current_runtime() -> Runtime:
    if _current is None:
        raise RuntimeError("no runtime: build_runtime() has not been called in this process")
    return _current


def resolve_database_url(settings: Settings) -> str:
    """The configured URL, or an embedded PostgreSQL started in the data folder."""
    if settings.database_url:
        return settings.database_url
    from xingdong.core.embedded_db import start_embedded_postgres

    return start_embedded_postgres(settings.data_dir)
