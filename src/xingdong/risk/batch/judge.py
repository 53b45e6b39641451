"""Run every batch detector over what the store holds and judge the accounts they find."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from xingdong.risk.batch.dense import densest_blocks
from xingdong.risk.batch.lockstep import lockstep_groups
from xingdong.risk.batch.rings import account_rings
from xingdong.risk.settings import BatchSettings
from xingdong.risk.store import Action


@dataclass
class AccountVerdict:
    account: str
    decision: str
    score: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class BatchReport:
    verdicts: list[AccountVerdict]
    lockstep_groups: int
    dense_blocks: int
    rings: int


def _add(evidence: dict[str, list[tuple[str, float]]], account: str, code: str, w: float) -> None:
    evidence.setdefault(account, []).append((code, w))


def _ring_evidence(
    links: dict[str, dict[str, set[str]]],
    settings: BatchSettings,
    evidence: dict[str, list[tuple[str, float]]],
) -> int:
    """Add the evidence of rings with strong links; return how many rings had them."""
    rings = account_rings(
        links,
        ip_max_accounts=settings.ring_ip_max_accounts,
        min_accounts=settings.ring_min_accounts,
    )
    rings_found = 0
    for ring in rings:
        strong = [
            link
            for link in ring.links
            if link.kind in ("device", "payout")
            and len(link.accounts) >= settings.ring_strong_link_accounts
        ]
        if not strong:
            continue
        rings_found += 1
        for account in ring.accounts:
            _add(evidence, account, f"ring:r{rings_found}", 0.6)
        for link in strong:
            code = "shared_payout_account" if link.kind == "payout" else "shared_device"
            for account in link.accounts:
                # families share a phone more often than a wallet
                _add(evidence, account, code, 0.75 if link.kind == "payout" else 0.45)
    return rings_found


def _verdicts(
    evidence: dict[str, list[tuple[str, float]]], settings: BatchSettings
) -> list[AccountVerdict]:
    """Each account's evidence combined (noisy-or, each code once) into a verdict."""
    verdicts: list[AccountVerdict] = []
    for account in sorted(evidence):
        keep = 1.0
        codes: dict[str, float] = {}
        for code, weight in evidence[account]:
            if code not in codes:
                codes[code] = weight
                keep *= 1.0 - weight
        score = 1.0 - keep
        if score >= settings.block_threshold:
            decision = "block"
        elif score >= settings.review_threshold:
            decision = "review"
        else:
            continue
        ordered = sorted(codes, key=lambda c: (-codes[c], c))
        verdicts.append(AccountVerdict(account, decision, round(score, 4), ordered))
    return verdicts


def run_batch(
    actions: list[Action],
    links: dict[str, dict[str, set[str]]],
    blocked: dict[str, int],
    settings: BatchSettings | None = None,
) -> BatchReport:
    """Judge accounts from their actions on targets, their shared devices, IPs and payout
    accounts, and how many of their actions were blocked in real time."""
    settings = settings or BatchSettings()
    evidence: dict[str, list[tuple[str, float]]] = {}
    groups_found = blocks_found = 0
    if actions:
        account_names, account_codes = np.unique([a.account for a in actions], return_inverse=True)
        _, target_codes = np.unique([a.target for a in actions], return_inverse=True)
        times = np.fromiter((a.ts for a in actions), dtype=float, count=len(actions))
        account_codes = account_codes.astype(np.int64)
        target_codes = target_codes.astype(np.int64)
        groups = lockstep_groups(
            account_codes,
            target_codes,
            times,
            window_seconds=settings.lockstep_window_seconds,
            min_targets=settings.lockstep_min_targets,
            min_accounts=settings.lockstep_min_accounts,
        )
        groups_found = len(groups)
        for number, group in enumerate(groups, start=1):
            for code in group.accounts:
                _add(evidence, str(account_names[code]), f"lockstep_group:g{number}", 0.9)
        blocks = densest_blocks(
            account_codes,
            target_codes,
            min_lift=settings.dense_min_lift,
            min_fill=settings.dense_min_fill,
            min_accounts=settings.dense_min_accounts,
            min_targets=settings.dense_min_targets,
        )
        blocks_found = len(blocks)
        for number, block in enumerate(blocks, start=1):
            for code in block.accounts:
                _add(evidence, str(account_names[code]), f"dense_block:b{number}", 0.9)
    rings_found = _ring_evidence(links, settings, evidence)
    for account, count in blocked.items():
        if count >= 2:
            _add(evidence, account, "blocked_in_real_time", 1.0 - 0.5 ** (count - 1))
    verdicts = _verdicts(evidence, settings)
    return BatchReport(verdicts, groups_found, blocks_found, rings_found)
