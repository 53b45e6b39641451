"""Score decisions (the replay's output) against the ground truth of a world."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Truth:
    accounts: dict[str, str | None]
    """Account → fraud family, None when honest."""
    fraud_lines: dict[int, str]

    @classmethod
    def read(cls, path: Path) -> Truth:
        accounts: dict[str, str | None] = {}
        lines: dict[int, str] = {}
        with path.open(encoding="utf-8") as labels:
            for text in labels:
                row = json.loads(text)
                if "line" in row:
                    lines[int(row["line"])] = str(row["family"])
                else:
                    accounts[str(row["account"])] = (
                        str(row["family"]) if row.get("label") == "fraud" else None
                    )
        return cls(accounts, lines)


@dataclass
class Score:
    interception: float
    """Fraudulent submissions that were reviewed or blocked as they happened."""
    interception_block: float
    honest_block_rate: float
    """Honest people's decisions (every kind) that were blocks."""
    honest_review_rate: float
    honest_submit_block_rate: float
    honest_submit_review_rate: float
    account_precision: float
    account_recall: float
    """Over accounts the batch stage blocked; fraud accounts include every family."""
    recall_by_family: dict[str, float] = field(default_factory=dict)
    """Share of each family's fraudulent submissions intercepted in real time."""
    account_recall_by_family: dict[str, float] = field(default_factory=dict)
    fraud_submissions: int = 0
    honest_decisions: int = 0

    def as_dict(self) -> dict[str, Any]:
        def r(value: float) -> float:
            return round(value, 5)

        return {
            "interception": r(self.interception),
            "interception_block": r(self.interception_block),
            "honest_block_rate": r(self.honest_block_rate),
            "honest_review_rate": r(self.honest_review_rate),
            "honest_submit_block_rate": r(self.honest_submit_block_rate),
            "honest_submit_review_rate": r(self.honest_submit_review_rate),
            "account_precision": r(self.account_precision),
            "account_recall": r(self.account_recall),
            "recall_by_family": {k: r(v) for k, v in sorted(self.recall_by_family.items())},
            "account_recall_by_family": {
                k: r(v) for k, v in sorted(self.account_recall_by_family.items())
            },
            "fraud_submissions": self.fraud_submissions,
            "honest_decisions": self.honest_decisions,
        }


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def score(decisions: Iterable[dict[str, Any]], truth: Truth) -> Score:
    fraud_total: Counter[str] = Counter()
    fraud_caught: Counter[str] = Counter()
    fraud_blocked = 0
    honest: Counter[str] = Counter()
    honest_submit: Counter[str] = Counter()
    blocked_accounts: set[str] = set()
    for row in decisions:
        kind = row["type"]
        if kind == "account":
            if row["decision"] == "block":
                blocked_accounts.add(row["account"])
            continue
        line = row["line"]
        family = truth.fraud_lines.get(line)
        if family is not None:
            if kind == "submit":
                fraud_total[family] += 1
                if row["decision"] != "allow":
                    fraud_caught[family] += 1
                if row["decision"] == "block":
                    fraud_blocked += 1
            continue
        if truth.accounts.get(row["account"]) is None:
            honest[row["decision"]] += 1
            if kind == "submit":
                honest_submit[row["decision"]] += 1
    fraud_accounts = {a for a, f in truth.accounts.items() if f is not None}
    true_blocks = blocked_accounts & fraud_accounts
    by_family: Counter[str] = Counter(f for f in truth.accounts.values() if f is not None)
    caught_family: Counter[str] = Counter(truth.accounts[a] or "" for a in true_blocks)
    all_fraud = sum(fraud_total.values())
    honest_all = sum(honest.values())
    honest_sub = sum(honest_submit.values())
    return Score(
        interception=_share(sum(fraud_caught.values()), all_fraud),
        interception_block=_share(fraud_blocked, all_fraud),
        honest_block_rate=_share(honest["block"], honest_all),
        honest_review_rate=_share(honest["review"], honest_all),
        honest_submit_block_rate=_share(honest_submit["block"], honest_sub),
        honest_submit_review_rate=_share(honest_submit["review"], honest_sub),
        account_precision=_share(len(true_blocks), len(blocked_accounts)),
        account_recall=_share(len(true_blocks), len(fraud_accounts)),
        recall_by_family={f: _share(fraud_caught[f], n) for f, n in fraud_total.items()},
        account_recall_by_family={f: _share(caught_family[f], n) for f, n in by_family.items()},
        fraud_submissions=all_fraud,
        honest_decisions=honest_all,
    )
