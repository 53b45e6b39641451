"""Batch detectors on small crafted graphs."""

from __future__ import annotations

import numpy as np

from xingdong.risk.batch.arrays import sorted_distinct
from xingdong.risk.batch.dense import densest_blocks
from xingdong.risk.batch.judge import run_batch
from xingdong.risk.batch.lockstep import lockstep_groups
from xingdong.risk.batch.rings import account_rings
from xingdong.risk.store import Action


def arrays(edges: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    acc, tgt, ts = zip(*edges, strict=True)
    return (np.array(acc, dtype=np.int64), np.array(tgt, dtype=np.int64), np.array(ts, dtype=float))


def sparse_background(
    rng: np.random.Generator, accounts: int, targets: int, edges: int, offset: int = 0
) -> list[tuple[int, int, float]]:
    return [
        (int(a) + offset, int(t), float(s))
        for a, t, s in zip(
            rng.integers(0, accounts, edges),
            rng.integers(0, targets, edges),
            rng.uniform(0, 30 * 86400, edges),
            strict=True,
        )
    ]


def test_lockstep_group_is_found_in_a_background() -> None:
    rng = np.random.default_rng(1)
    edges = sparse_background(rng, 2000, 500, 20000, offset=10)
    for target in range(8):
        wave = 86400.0 * (target + 1)
        edges += [(member, 600 + target, wave + member * 30) for member in range(6)]
    groups = lockstep_groups(*arrays(edges))
    assert len(groups) == 1
    assert groups[0].accounts.tolist() == list(range(6))
    assert groups[0].targets.tolist() == list(range(600, 608))


def test_same_targets_at_different_times_are_not_lockstep() -> None:
    edges = [
        (member, target, 86400.0 * member + 3600 * target)
        for member in range(6)
        for target in range(8)
    ]
    assert lockstep_groups(*arrays(edges)) == []


def test_sparse_random_background_is_not_a_dense_block() -> None:
    rng = np.random.default_rng(2)
    acc, tgt, _ = arrays(sparse_background(rng, 5000, 800, 40000))
    assert densest_blocks(acc, tgt) == []


def test_dense_block_with_camouflage_is_found() -> None:
    rng = np.random.default_rng(3)
    edges = sparse_background(rng, 5000, 800, 40000, offset=40)
    popular = list(range(5))
    for member in range(40):
        edges += [(member, 900 + t, 0.0) for t in range(15) if rng.random() < 0.8]
        # camouflage: the popular targets everybody does
        edges += [(member, t, 0.0) for t in popular]
    for other in range(40, 3000):
        edges += [(other, t, 0.0) for t in popular if rng.random() < 0.3]
    acc, tgt, _ = arrays(edges)
    blocks = densest_blocks(acc, tgt)
    assert blocks
    found = set(blocks[0].accounts.tolist())
    assert len(found & set(range(40))) >= 36
    assert len(found - set(range(40))) <= 2
    assert blocks[0].edges > 5 * blocks[0].expected_edges


def test_ring_joins_accounts_through_devices_and_payouts_with_evidence() -> None:
    links = {
        "device": {"d1": {"a", "b"}, "d2": {"c"}, "d3": {"x", "y"}},
        "payout": {"w1": {"b", "c", "d"}},
        "ip": {"nat": {f"n{i}" for i in range(50)} | {"a"}},
    }
    rings = account_rings(links)
    assert [r.accounts for r in rings] == [("a", "b", "c", "d")]
    kinds = {(link.kind, link.value) for link in rings[0].links}
    assert kinds == {("device", "d1"), ("payout", "w1")}


def test_carrier_nat_address_alone_forms_no_ring() -> None:
    links = {"ip": {"10.0.0.1": {f"p{i}" for i in range(200)}}}
    assert account_rings(links) == []


def test_judge_blocks_a_payout_ring_and_leaves_a_family_alone() -> None:
    links = {
        "payout": {"boss": {"f1", "f2", "f3", "f4"}, "home": {"mum", "dad"}},
        "device": {"kitchen": {"mum", "dad"}},
    }
    report = run_batch([Action("mum", "@x", 0.0)], links, {"dad": 1})
    judged = {v.account: v for v in report.verdicts}
    assert set(judged) == {"f1", "f2", "f3", "f4"}
    assert all(v.decision == "block" for v in judged.values())
    assert "shared_payout_account" in judged["f1"].reasons
    assert any(r.startswith("ring:") for r in judged["f1"].reasons)


def test_two_farms_are_two_blocks() -> None:
    rng = np.random.default_rng(4)
    edges = sparse_background(rng, 5000, 800, 40000, offset=60)
    for member in range(30):
        edges += [(member, 900 + t, 0.0) for t in range(12)]
    for member in range(30, 60):
        edges += [(member, 950 + t, 0.0) for t in range(12)]
    acc, tgt, _ = arrays(edges)
    found = sorted(sorted(b.accounts.tolist()) for b in densest_blocks(acc, tgt))
    assert found == [list(range(30)), list(range(30, 60))]


def test_sorted_distinct_matches_unique() -> None:
    values = np.random.default_rng(9).integers(0, 50, 500).astype(np.int64)
    assert sorted_distinct(values).tolist() == np.unique(values).tolist()
    assert sorted_distinct(np.array([], dtype=np.int64)).tolist() == []
