"""The rules' thresholds and weights: settings an operator can change and try with
``xingdong risk replay --settings FILE`` before switching them on.

Every field is documented in docs/risk.md.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


def _weights() -> dict[str, float]:
    return {
        "device_shared": 0.3,
        "device_farm": 0.85,
        "ip_crowded": 0.35,
        "ip_cotarget": 0.55,
        "ip_registration_burst": 0.45,
        "registration_burst": 0.6,
        "phone_virtual_operator": 0.1,
        "phone_sequence": 0.45,
        "platform_account_new": 0.15,
        "velocity_claims": 0.3,
        "velocity_submits": 0.4,
        "submit_too_fast": 0.55,
        "submit_without_claim": 0.4,
        "trajectory_straight": 0.45,
        "trajectory_regular": 0.45,
        "evidence_exact_reuse": 0.97,
        "evidence_resubmitted": 0.5,
        "evidence_near_duplicate": 0.65,
        "ocr_target_missing": 0.2,
        "ocr_done_state_missing": 0.2,
        "ocr_clock_mismatch": 0.35,
        "platform_not_verified": 0.45,
        "payout_shared": 0.5,
        "new_device_for_account": 0.15,
        "account_previously_flagged": 0.5,
        "ip_flagged_accounts": 0.5,
        "account_registration_flagged": 0.45,
        "signal_missing": 0.02,
    }


class BatchSettings(BaseModel):
    """Thresholds of the batch detectors and of the account verdicts they lead to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lockstep_window_seconds: float = Field(600, gt=0)
    lockstep_min_targets: int = Field(4, ge=2)
    lockstep_min_accounts: int = Field(4, ge=2)
    dense_min_lift: float = Field(5, ge=1)
    dense_min_fill: float = Field(0.3, gt=0, le=1)
    dense_min_accounts: int = Field(5, ge=2)
    dense_min_targets: int = Field(3, ge=2)
    ring_ip_max_accounts: int = Field(4, ge=2)
    ring_min_accounts: int = Field(3, ge=2)
    ring_strong_link_accounts: int = Field(3, ge=2)
    block_threshold: float = Field(0.9, ge=0, le=1)
    review_threshold: float = Field(0.5, ge=0, le=1)


class RiskSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    review_threshold: float = Field(0.5, ge=0, le=1)
    block_threshold: float = Field(0.9, ge=0, le=1)
    weights: dict[str, float] = Field(default_factory=_weights)

    device_window_hours: float = Field(720, gt=0)
    device_shared_accounts: int = Field(2, ge=2)
    device_farm_accounts: int = Field(5, ge=2)
    ip_window_hours: float = Field(168, gt=0)
    ip_crowded_accounts: int = Field(8, ge=2)
    ip_crowded_devices_per_account: float = Field(0.6, gt=0, le=1)
    cotarget_window_minutes: float = Field(60, gt=0)
    cotarget_accounts: int = Field(4, ge=2)
    ip_registrations_per_hour: int = Field(5, ge=2)
    burst_window_minutes: float = Field(10, gt=0)
    burst_registrations: int = Field(8, ge=2)
    burst_over_usual: float = Field(5, ge=1)
    virtual_operator_prefixes: tuple[str, ...] = ("170", "171", "162", "165", "167")
    phone_sequence_distance: int = Field(20, ge=1)
    platform_new_days: int = Field(7, ge=0)
    platform_new_followers: int = Field(5, ge=0)
    claims_per_hour: int = Field(40, ge=1)
    submits_per_hour: int = Field(30, ge=1)
    min_claim_to_submit_seconds: float = Field(10, ge=0)
    trajectory_straightness: float = Field(0.995, gt=0, le=1)
    trajectory_interval_cv: float = Field(0.05, ge=0)
    phash_radius: int = Field(7, ge=0, le=11)
    phash_copy_distance: int = Field(2, ge=0, le=11)
    ip_flagged_accounts: int = Field(3, ge=1)
    account_flags_remembered: int = Field(2, ge=1)
    registration_remembered_score: float = Field(0.4, ge=0, le=1)
    ip_flagged_share: float = Field(0.25, ge=0, le=1)
    ip_reputation_hours: float = Field(168, gt=0)
    clock_utc_offset_hours: float = 8
    clock_before_minutes: int = Field(30, ge=0)
    clock_after_minutes: int = Field(3, ge=0)
    new_device_after_days: float = Field(3, ge=0)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    model_review_threshold: float = Field(0.5, ge=0, le=1)
    model_block_threshold: float = Field(0.97, ge=0, le=1)

    @classmethod
    def from_file(cls, path: Path) -> RiskSettings:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def weight(self, code: str) -> float:
        return self.weights.get(code.split(":", 1)[0], 0.0)
