"""The plain-threshold baseline: fixed counts and cut-offs, no allowance for shared
addresses, no OCR, no memory. It is what the engine is compared with in the benchmark."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from xingdong.risk.events import DECIDED_TYPES, MalformedEvent, parse_event
from xingdong.risk.phash_index import PhashIndex

DEVICE_ACCOUNTS = 3
IP_ACCOUNTS = 5
FASTEST_SUBMIT = 10.0
PHASH_RADIUS = 7


def baseline_decisions(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Decisions of the baseline, in the replay's output format."""
    device_accounts: dict[str, set[str]] = {}
    ip_accounts: dict[str, set[str]] = {}
    claims: dict[tuple[str, str], float] = {}
    sha_owner: dict[str, str] = {}
    index = PhashIndex(PHASH_RADIUS)
    owners: list[str] = []
    blocked: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for number, text in enumerate(lines):
        try:
            event = parse_event(json.loads(text))
        except (ValueError, MalformedEvent):
            continue
        account = event.account
        block = review = False
        if event.device:
            users = device_accounts.setdefault(event.device, set())
            users.add(account)
            block |= len(users) >= DEVICE_ACCOUNTS
        if event.ip:
            users = ip_accounts.setdefault(event.ip, set())
            users.add(account)
            block |= len(users) >= IP_ACCOUNTS
        if event.type == "claim" and event.task:
            claims.setdefault((account, event.task), event.ts)
        if event.type == "submit":
            claimed = claims.get((account, event.task or ""))
            block |= claimed is not None and event.ts - claimed < FASTEST_SUBMIT
            evidence = event.evidence
            if evidence is not None and evidence.sha256:
                owner = sha_owner.setdefault(evidence.sha256, account)
                block |= owner != account
            if evidence is not None and evidence.phash is not None:
                review |= any(owners[i] != account for _, i in index.near(evidence.phash))
                index.add(evidence.phash)
                owners.append(account)
        if event.type not in DECIDED_TYPES:
            continue
        decision = "block" if block else "review" if review else "allow"
        if block:
            blocked[account] = blocked.get(account, 0) + 1
        out.append(
            {
                "line": number,
                "type": event.type,
                "account": account,
                "decision": decision,
                "score": 1.0 if block else 0.5 if review else 0.0,
                "reasons": [],
            }
        )
    for account in sorted(blocked):
        out.append(
            {
                "type": "account",
                "account": account,
                "decision": "block",
                "score": 1.0,
                "reasons": [],
            }
        )
    return out
