"""Settings read from the environment (prefix ``XINGDONG_``) or a ``.env`` file.

Every field is documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, FilePath, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RETURN_PERIOD_HOURS = 7 * 24
"""How long a buyer may return an order for no reason (the seven-day return shops give,
七天无理由退货): a purchase task's hold is never shorter."""


RISK_WARM_DAYS = 30
"""How far back a starting process reads recorded risk events to rebuild its memory: they
are kept at least this long."""


DEVELOPMENT_SECRET_KEY = "dev-insecure-secret-change-me"
"""The secret key a process has when none is set: public, so fit only for one machine."""

MIN_SECRET_KEY_LENGTH = 32


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("xingdong", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINGDONG_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: an embedded PostgreSQL is started in data_dir.",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    redis_url: str | None = Field(
        default=None, description="When set, rate limits are shared through this Redis."
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET_KEY),
        description="Signs CSRF tokens and hashes one-time codes. Set a long random value.",
    )
    password_hashing: Literal["standard", "cheapest"] = Field(
        default="standard",
        description="standard: argon2id at its library's recommended cost. cheapest: for test "
        "suites only (hashes anyone can brute-force).",
    )
    support_contact: str = Field(
        default="",
        max_length=200,
        description="How people reach support (an e-mail address, a phone number, a page); "
        "shown in every page's footer and beside refusals that say to contact support.",
    )
    default_locale: Literal["zh_CN", "en"] = "zh_CN"

    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", description="auto: Secure cookies when the request came over HTTPS."
    )
    session_ttl_hours: int = Field(default=72, ge=1)
    api_token_ttl_days: int = Field(default=30, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    sms_sender: Literal["console"] = "console"
    sms_code_ttl_seconds: int = Field(default=300, ge=30)
    sms_code_max_attempts: int = Field(default=5, ge=1)
    sms_reveal_codes: bool = Field(
        default=False, description="Show one-time codes on the page (demo only)."
    )

    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_base_seconds: int = Field(default=60, ge=1)
    login_lockout_max_seconds: int = Field(default=3600, ge=1)
    rate_limit_login: str = "10/minute"
    rate_limit_sms_phone: str = "1/minute;5/hour"
    rate_limit_sms_ip: str = "30/hour"
    rate_limit_webhook_sends: str = Field(
        default="20/minute;200/hour",
        description="Test events and redeliveries an organisation's owners send by hand.",
    )
    rate_limit_data_export: str = Field(
        default="5/hour", description="Downloads of one person's copy of their data."
    )
    rate_limit_campaign_toggles: str = Field(
        default="10/hour;30/day",
        description="Pauses and resumes of one campaign, together.",
    )
    rate_limit_evidence_copies: str = Field(
        default="300/minute;3000/hour",
        description="Evidence pictures one person has made small or clean, together.",
    )
    rate_limit_api_key: str = Field(
        default="600/minute;20000/hour",
        description="Requests one organisation API key may make.",
    )

    payment_provider: Literal["sandbox"] = "sandbox"
    payment_sandbox_secret: SecretStr = Field(
        default=SecretStr("sandbox-payment-secret"),
        description="Signs the sandbox payment provider's notifications.",
    )
    deposit_min_fen: int = Field(default=100, ge=1)
    deposit_max_fen: int = Field(default=10_000_000, ge=1)
    deposit_expiry_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        description="A top-up still unpaid this many hours after it was started is closed "
        "on its own, at the provider first.",
    )
    reconciliation_days: int = Field(
        default=7,
        ge=1,
        le=3650,
        description="Reconciliation asks the providers about the top-ups, withdrawals and "
        "refunds started or settled in this many days, and about every one still under way.",
    )

    payout_provider: Literal["sandbox"] = "sandbox"
    withdrawal_min_fen: int = Field(default=1_000, ge=1)
    withdrawal_fee_fen: int = Field(default=100, ge=0)
    withdrawal_daily_limit_fen: int = Field(default=500_000, ge=1)
    withdrawal_review_fen: int = Field(
        default=200_000,
        ge=1,
        description="From this amount (with the same day's earlier withdrawals) an operator "
        "must approve.",
    )
    withdrawal_four_eyes_fen: int = Field(
        default=400_000,
        ge=1,
        description="From this amount (with the same day's earlier withdrawals) two different "
        "operators must; below the daily limit, or it could never apply.",
    )

    evidence_storage: Literal["folder", "s3"] = Field(
        default="folder",
        description="Where evidence bytes live: a local folder, or an S3-compatible bucket.",
    )
    evidence_dir: Path = Field(
        default_factory=lambda data: data["data_dir"] / "evidence",
        description="Where uploaded evidence files are kept (local folder storage).",
    )
    evidence_s3_bucket: str | None = Field(
        default=None, min_length=3, max_length=63, description="The bucket (``s3`` storage)."
    )
    evidence_s3_prefix: str = Field(
        default="",
        max_length=200,
        # Empty or ending in "/": "evidence" would also take another app's "evidence2024…".
        pattern=r"^([A-Za-z0-9!_.*'()/-]*/)?$",
        description="Put before every key, to share a bucket (``evidence/``).",
    )
    evidence_s3_endpoint_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="An S3-compatible service other than AWS (MinIO, OSS, COS …).",
    )
    evidence_s3_region: str | None = None
    evidence_s3_access_key_id: str | None = None
    evidence_s3_secret_access_key: SecretStr | None = None
    evidence_max_image_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    evidence_max_image_pixels: int = Field(default=40_000_000, ge=10_000)
    evidence_max_video_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    evidence_ocr: bool = Field(
        default=True, description="Read the text on uploaded screenshots (OCR, in a job)."
    )

    platform_fee_percent: int = Field(
        default=20, ge=0, le=90, description="The platform's share of a task's unit price."
    )
    campaign_min_unit_price_fen: int = Field(default=10, ge=1)
    campaign_max_quantity: int = Field(default=100_000, ge=1)
    campaign_max_days: int = Field(
        default=180,
        ge=1,
        le=3650,
        description="How far ahead a campaign may end, in days from when it is made.",
    )
    claim_ttl_minutes: int = Field(
        default=60, ge=1, description="How long a claimed task stays reserved for the worker."
    )
    shoot_claim_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        description="How long a claimed shoot task stays reserved: the time to film a "
        "video, post it and hand it in.",
    )
    profile_ad_claim_hours: int = Field(
        default=72,
        ge=1,
        le=24 * 30,
        description="How long a claimed profile ad stays reserved: the time its thousand "
        "impressions may take.",
    )
    hold_hours: int = Field(
        default=72, ge=0, description="How long an approved reward stays pending before release."
    )
    hold_check_hours: float = Field(
        default=24,
        ge=0,
        le=720,
        description="How often a reward in hold is checked on the platform before the hold "
        "ends, so that a worker who undid the action is told in time to do it again (0: "
        "only the hold's end asks; fractions allowed, 0.25 is a quarter of an hour).",
    )
    platform_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=120,
        description="How long a short-video platform has to answer whether an action was "
        "done or is still there; no answer by then counts as the platform cannot tell.",
    )
    purchase_hold_hours: int = Field(
        default=192,
        # A shorter hold would release a reward while its order can still be returned.
        ge=RETURN_PERIOD_HOURS,
        description="How long a purchase task's reward stays pending at least: the shop's "
        "seven-day return period and a day for a refund to show.",
    )
    appeal_days: int = Field(default=7, ge=1)
    review_gold_rate: float = Field(
        default=0.05, ge=0, le=0.5, description="Share of review items that are gold items."
    )

    webhook_private_targets: bool = Field(
        default=False,
        description="Let webhooks go to http:// and to loopback or private addresses (the "
        "demo and tests; never in production, where it would let anyone probe the network "
        "behind the server).",
    )
    webhook_timeout_seconds: float = Field(
        default=10, gt=0, le=60, description="How long a webhook receiver has to answer."
    )
    webhook_event_retention_days: int = Field(
        default=30, ge=1, description="How long events stay listable and redeliverable."
    )

    agreement_version: str = "2026-11"
    min_age_for_paid_tasks: int = 18

    run_worker_in_process: bool = True
    job_retention_days: int = Field(
        default=14,
        ge=1,
        le=3650,
        description="How long finished background jobs (and their events) stay in the job "
        "queue's tables; then a nightly job deletes them.",
    )
    demo_crowd: bool = Field(
        default=False,
        description="Run the demo's simulated crowd in the server process (xingdong demo).",
    )
    worker_concurrency: int = Field(default=4, ge=1)
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_levels: str = Field(
        default="procrastinate=WARNING",
        description="Levels of their own for some loggers, name=LEVEL joined by commas: by "
        "default the job queue's three lines for every job it runs are left out.",
    )
    log_json: bool = True

    policy_profile: str = Field(
        default="default",
        description="The policy profile campaigns run under: default or strict.",
    )
    compliance_extra_words_file: FilePath | None = Field(
        default=None, description="More words for the campaign copy check (docs/compliance.md)."
    )

    dispatch_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Dispatch weights that differ from the defaults (docs/dispatch.md), "
        'as JSON: {"novice_boost": 0.2}.',
    )
    dispatch_feed_size: int = Field(default=20, ge=1, le=100)
    dispatch_sync_seconds: float = Field(
        default=2.0, ge=0, le=300, description="How stale the feed's campaign index may be."
    )
    dispatch_facts_cache_seconds: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="How long a serving process keeps what the feed API read about a "
        "person (token, profile, hidden tasks, units held) at most; a change drops it at "
        "once through the database's notifications. 0 reads it on every request.",
    )
    dispatch_facts_cache_size: int = Field(
        default=20_000,
        ge=1,
        le=10_000_000,
        description="How many people's feed facts a serving process keeps at most.",
    )
    dispatch_history_days: float = Field(
        default=7.0,
        ge=0,
        le=90,
        description="Days of the exposure log a serving process learns from when it starts.",
    )
    dispatch_exposure_retention_days: int = Field(
        default=90,
        ge=2,
        le=3650,
        description="How long the exposure log (each feed shown: to whom, which tasks) is "
        "kept; then a nightly job deletes it.",
    )
    dispatch_history_limit: int = Field(
        default=50_000,
        ge=0,
        le=5_000_000,
        description="At most this many of the latest exposures are learned from at start.",
    )
    dispatch_solve_visits: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="At most about this many of the last day's feed requests are solved on "
        "by the price seedings (a sample spread over the day, when there were more).",
    )

    risk_rules_file: FilePath | None = Field(
        default=None,
        description="Risk rules and thresholds (JSON, docs/risk.md); unset: the defaults.",
    )

    risk_model_file: FilePath | None = Field(
        default=None,
        description="A scoring model from `xingdong risk train`; unset: the rules decide.",
    )
    risk_event_retention_days: int = Field(
        default=180,
        ge=RISK_WARM_DAYS,
        description="How long recorded risk events (the anti-cheat log) are kept; then a "
        "nightly job deletes them.",
    )

    @field_validator(
        "evidence_s3_bucket",
        "evidence_s3_endpoint_url",
        "evidence_s3_region",
        "evidence_s3_access_key_id",
        "evidence_s3_secret_access_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # A template's `XINGDONG_EVIDENCE_S3_ACCESS_KEY_ID=` would otherwise be a key
        # named "" that passes the both-or-neither check and fails every call with 403.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _history_within_the_log(self) -> Settings:
        if self.dispatch_history_days > self.dispatch_exposure_retention_days:
            raise ValueError(
                "XINGDONG_DISPATCH_HISTORY_DAYS cannot be more than "
                "XINGDONG_DISPATCH_EXPOSURE_RETENTION_DAYS: the log is not kept that long"
            )
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.evidence_storage == "s3" and not self.evidence_s3_bucket:
            raise ValueError("XINGDONG_EVIDENCE_STORAGE=s3 needs XINGDONG_EVIDENCE_S3_BUCKET")
        if (self.evidence_s3_access_key_id is None) != (self.evidence_s3_secret_access_key is None):
            raise ValueError(
                "set both XINGDONG_EVIDENCE_S3_ACCESS_KEY_ID and "
                "XINGDONG_EVIDENCE_S3_SECRET_ACCESS_KEY, or neither"
            )
        return self

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        from xingdong.core.logging import LEVELS

        if value.strip().upper() not in LEVELS:
            raise ValueError(f"XINGDONG_LOG_LEVEL is one of {', '.join(LEVELS)}")
        return value.strip().upper()

    @field_validator("log_levels")
    @classmethod
    def _readable_log_levels(cls, value: str) -> str:
        from xingdong.core.logging import logger_levels

        try:
            logger_levels(value)
        except ValueError as exc:
            raise ValueError(f"XINGDONG_LOG_LEVELS: {exc}") from exc
        return value

    @field_validator("risk_model_file")
    @classmethod
    def _readable_risk_model(cls, value: Path | None) -> Path | None:
        if value is not None:
            from xingdong.risk.model import RiskModel

            RiskModel.from_file(value)
        return value

    @field_validator("risk_rules_file")
    @classmethod
    def _readable_risk_rules(cls, value: Path | None) -> Path | None:
        # Read now, so a mistake in the file stops start-up, not a request.
        if value is not None:
            from xingdong.risk.settings import RiskSettings

            RiskSettings.from_file(value)
        return value

    @field_validator("dispatch_weights")
    @classmethod
    def _known_dispatch_weights(cls, value: dict[str, float]) -> dict[str, float]:
        from xingdong.dispatch.weights import weights_from

        weights_from(value)
        return value

    @field_validator("policy_profile")
    @classmethod
    def _known_policy_profile(cls, value: str) -> str:
        from xingdong.campaigns.policy import get_profile

        return get_profile(value).name

    @field_validator("compliance_extra_words_file")
    @classmethod
    def _usable_words_file(cls, value: Path | None) -> Path | None:
        # Read now, so that a mistake in the file stops start-up, not every campaign check.
        if value is not None:
            from xingdong.campaigns.compliance import load_word_list

            load_word_list(value)
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
