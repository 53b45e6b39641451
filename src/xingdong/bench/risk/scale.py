"""The batch detectors on a large synthetic graph: 1 million account-target edges of
random background (popularity-skewed targets) with a planted lockstep group and a planted
dense block hidden in it."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from xingdong.risk.batch.dense import densest_blocks
from xingdong.risk.batch.lockstep import lockstep_groups
from xingdong.risk.batch.rings import account_rings


@dataclass
class ScaleFigures:
    edges: int
    lockstep_seconds: float
    dense_seconds: float
    rings_seconds: float
    planted_lockstep_found: bool
    planted_block_found: bool
    false_groups: int


def run_scale(edges: int = 1_000_000, seed: int = 7) -> ScaleFigures:
    rng = np.random.default_rng(seed)
    n_accounts, n_targets = edges // 8, edges // 40
    planted = 60
    background = edges - planted * 40
    accounts = rng.integers(planted, n_accounts, background)
    popularity = 1.0 / np.arange(1, n_targets + 1) ** 0.8
    targets = rng.choice(n_targets, background, p=popularity / popularity.sum())
    times = rng.uniform(0, 30 * 86400, background)
    # a lockstep group: 30 accounts, 20 targets, each within minutes of a wave
    group = np.repeat(np.arange(30), 20)
    group_targets = np.tile(rng.choice(n_targets, 20, replace=False), 30)
    wave = rng.uniform(0, 30 * 86400, 20)
    group_times = np.tile(wave, 30) + rng.uniform(0, 300, 600)
    # a dense block: 30 accounts on 20 targets, times spread out (not in lockstep)
    block = np.repeat(np.arange(30, 60), 20)
    block_targets = np.tile(rng.choice(n_targets, 20, replace=False), 30)
    block_times = rng.uniform(0, 30 * 86400, 600)
    accounts = np.concatenate([accounts, group, block]).astype(np.int64)
    targets = np.concatenate([targets, group_targets, block_targets]).astype(np.int64)
    times = np.concatenate([times, group_times, block_times])

    started = time.perf_counter()
    groups = lockstep_groups(accounts, targets, times)
    lockstep_seconds = time.perf_counter() - started
    started = time.perf_counter()
    blocks = densest_blocks(accounts, targets)
    dense_seconds = time.perf_counter() - started

    devices = rng.integers(0, n_accounts, n_accounts)
    links: dict[str, dict[str, set[str]]] = {"device": {}}
    for account, device in enumerate(devices.tolist()):
        links["device"].setdefault(str(device), set()).add(str(account))
    started = time.perf_counter()
    account_rings(links)
    rings_seconds = time.perf_counter() - started

    planted_group = set(range(30))
    planted_block = set(range(30, 60))
    found_group = any(planted_group <= set(g.accounts.tolist()) for g in groups)
    found_block = any(len(planted_block & set(b.accounts.tolist())) >= 25 for b in blocks) or any(
        len((planted_block | planted_group) & set(b.accounts.tolist())) >= 25 for b in blocks
    )
    false_groups = sum(1 for g in groups if not set(g.accounts.tolist()) & planted_group) + sum(
        1 for b in blocks if not set(b.accounts.tolist()) & (planted_block | planted_group)
    )
    return ScaleFigures(
        edges=len(accounts),
        lockstep_seconds=lockstep_seconds,
        dense_seconds=dense_seconds,
        rings_seconds=rings_seconds,
        planted_lockstep_found=found_group,
        planted_block_found=found_block,
        false_groups=false_groups,
    )
