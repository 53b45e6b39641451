"""Lockstep groups (CopyCatch-style): accounts that act on the same targets at the same
times, again and again.

Actions are sorted by target and time; for each shift k the action k places later is
compared with this one, so every pair of accounts acting on one target within the window
is found with whole-array operations, and the shifting stops once no pair is that close.
A pair of accounts in lockstep on at least ``min_targets`` different targets is linked;
connected groups of at least ``min_accounts`` accounts are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from xingdong.risk.batch.arrays import sorted_distinct


@dataclass(frozen=True)
class LockstepGroup:
    accounts: NDArray[np.int64]
    targets: NDArray[np.int64]
    """Targets on which members acted in lockstep."""


def lockstep_groups(
    accounts: NDArray[np.int64],
    targets: NDArray[np.int64],
    times: NDArray[np.float64],
    *,
    window_seconds: float = 600.0,
    min_targets: int = 4,
    min_accounts: int = 4,
    max_shift: int = 200,
) -> list[LockstepGroup]:
    """Groups of accounts (integer codes) acting in lockstep; largest first."""
    if len(accounts) < 2:
        return []
    order = np.lexsort((times, targets))
    acc, tgt, ts = accounts[order], targets[order], times[order]
    n_accounts = int(acc.max()) + 1
    pair_keys: list[NDArray[np.int64]] = []
    pair_targets: list[NDArray[np.int64]] = []
    for shift in range(1, min(max_shift, len(acc) - 1) + 1):
        same = (tgt[shift:] == tgt[:-shift]) & (ts[shift:] - ts[:-shift] <= window_seconds)
        if not same.any():
            break
        left, right = acc[:-shift][same], acc[shift:][same]
        distinct = left != right
        low = np.minimum(left, right)[distinct]
        high = np.maximum(left, right)[distinct]
        pair_keys.append(low * n_accounts + high)
        pair_targets.append(tgt[:-shift][same][distinct])
    if not pair_keys:
        return []
    keys = np.concatenate(pair_keys)
    on = np.concatenate(pair_targets)
    # count each pair once per target, however often they met on it (one integer per
    # (pair, target): a flat sort is many times faster than unique rows)
    n_targets = int(tgt.max()) + 1
    met = sorted_distinct(keys * n_targets + on)
    both = np.stack([met // n_targets, met % n_targets])
    pair, common = np.unique(both[0], return_counts=True)
    strong = pair[common >= min_targets]
    if len(strong) == 0:
        return []
    low, high = strong // n_accounts, strong % n_accounts
    graph = coo_matrix((np.ones(len(strong)), (low, high)), shape=(n_accounts, n_accounts)).tocsr()
    _, labels = connected_components(graph, directed=False)
    members = np.unique(np.concatenate([low, high]))
    groups: list[LockstepGroup] = []
    strong_set = np.isin(both[0], strong)
    for label in np.unique(labels[members]):
        group = members[labels[members] == label]
        if len(group) < min_accounts:
            continue
        in_group = strong_set & np.isin(both[0] // n_accounts, group)
        groups.append(LockstepGroup(accounts=group, targets=np.unique(both[1][in_group])))
    groups.sort(key=lambda g: (-len(g.accounts), int(g.accounts[0])))
    return groups
