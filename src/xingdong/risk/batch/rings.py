"""Rings: accounts joined by the devices, IPs and payout accounts they share.

Accounts and the things they used form one graph; its connected components (a sparse
union-find) are the rings. Addresses that many people share by nature (carrier NAT,
campuses) would join strangers, so an IP links accounts only when few accounts used it.
Each ring keeps the links that made it, as evidence an operator can check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class Link:
    kind: str
    value: str
    accounts: tuple[str, ...]


@dataclass(frozen=True)
class Ring:
    accounts: tuple[str, ...]
    links: tuple[Link, ...]


def account_rings(
    links: dict[str, dict[str, set[str]]],
    *,
    ip_max_accounts: int = 4,
    min_accounts: int = 3,
) -> list[Ring]:
    """Rings of at least ``min_accounts`` accounts; largest first, then by first account."""
    chosen: list[Link] = []
    for kind in sorted(links):
        for value in sorted(links[kind]):
            users = links[kind][value]
            if len(users) < 2 or (kind == "ip" and len(users) > ip_max_accounts):
                continue
            chosen.append(Link(kind, value, tuple(sorted(users))))
    if not chosen:
        return []
    names = sorted({a for link in chosen for a in link.accounts})
    index = {name: i for i, name in enumerate(names)}
    left: list[int] = []
    right: list[int] = []
    for n, link in enumerate(chosen):
        for account in link.accounts:
            left.append(index[account])
            right.append(len(names) + n)
    size = len(names) + len(chosen)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(size, size)).tocsr()
    _, labels = connected_components(graph, directed=False)
    by_label: dict[int, list[str]] = {}
    for name, label in zip(names, labels[: len(names)], strict=True):
        by_label.setdefault(int(label), []).append(name)
    links_by_label: dict[int, list[Link]] = {}
    for n, link in enumerate(chosen):
        links_by_label.setdefault(int(labels[len(names) + n]), []).append(link)
    rings = [
        Ring(tuple(members), tuple(links_by_label[label]))
        for label, members in by_label.items()
        if len(members) >= min_accounts
    ]
    rings.sort(key=lambda r: (-len(r.accounts), r.accounts[0]))
    return rings
