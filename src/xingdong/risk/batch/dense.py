"""Dense blocks in the account x target graph (FRAUDAR-style), tested against chance.

Targets are weighted 1 / log(degree + 5), so edges to popular targets — where a farm
hides its camouflage and where honest people crowd — count for little. Nodes are peeled
in rounds: every node whose weighted degree is below (1 + ε) times twice the current
density goes at once (the parallel form of greedy peeling, a constant-factor
approximation of the densest subgraph), which keeps each round a few array operations.

A block is reported only if it is unlikely by chance: its edges must be many times what
the degrees of its accounts and targets would give in a random graph, it must be filled
in, and it must have enough accounts and targets. A large sparse region fails that test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class DenseBlock:
    accounts: NDArray[np.int64]
    targets: NDArray[np.int64]
    edges: int
    expected_edges: float
    """Edges a random graph with the same degrees would put in this block."""
    fill: float


def _block_stats(
    keep_rows: NDArray[np.bool_],
    keep_cols: NDArray[np.bool_],
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    row_degree: NDArray[np.float64],
    col_degree: NDArray[np.float64],
    total: int,
) -> tuple[int, float, float]:
    inside = keep_rows[rows] & keep_cols[cols]
    edges = int(inside.sum())
    expected = float(row_degree[keep_rows].sum() * col_degree[keep_cols].sum() / max(total, 1))
    cells = int(keep_rows.sum()) * int(keep_cols.sum())
    return edges, expected, edges / cells if cells else 0.0


def _passes(
    edges: int,
    expected: float,
    fill: float,
    n_rows: int,
    n_cols: int,
    *,
    min_lift: float,
    min_fill: float,
    min_accounts: int,
    min_targets: int,
) -> bool:
    if n_rows < min_accounts or n_cols < min_targets or fill < min_fill:
        return False
    # many times the chance count, and far out in its Poisson tail
    return edges >= min_lift * expected and edges >= expected + 6 * math.sqrt(expected + 1)


def densest_blocks(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    *,
    max_blocks: int = 10,
    epsilon: float = 0.1,
    min_lift: float = 5.0,
    min_fill: float = 0.3,
    min_accounts: int = 5,
    min_targets: int = 3,
) -> list[DenseBlock]:
    """Blocks of (account, target) edges, each unlikely by chance; rows are removed once
    reported and the search goes on, up to ``max_blocks``."""
    if len(rows) == 0:
        return []
    pairs = np.unique(np.stack([rows, cols]), axis=1)
    rows, cols = pairs[0], pairs[1]
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    row_degree = np.bincount(rows, minlength=n_rows).astype(float)
    col_degree = np.bincount(cols, minlength=n_cols).astype(float)
    weight = 1.0 / np.log(col_degree[cols] + 5.0)
    total = len(rows)
    alive_rows = row_degree > 0
    blocks: list[DenseBlock] = []
    while len(blocks) < max_blocks and alive_rows.any():
        found = _peel(
            rows,
            cols,
            weight,
            alive_rows,
            n_rows,
            n_cols,
            epsilon,
            lambda r, c: _block_stats(r, c, rows, cols, row_degree, col_degree, total),
            min_lift=min_lift,
            min_fill=min_fill,
            min_accounts=min_accounts,
            min_targets=min_targets,
        )
        if found is None:
            break
        keep_rows, keep_cols = found
        # Peeling in rounds can drop members that sit just under a cut; take back every
        # account that covers at least half of the block's targets.
        into_block = np.bincount(rows[keep_cols[cols]], minlength=n_rows)
        keep_rows = alive_rows & (into_block >= 0.5 * keep_cols.sum())
        edges, expected, fill = _block_stats(
            keep_rows, keep_cols, rows, cols, row_degree, col_degree, total
        )
        blocks.append(
            DenseBlock(
                accounts=np.flatnonzero(keep_rows),
                targets=np.flatnonzero(keep_cols),
                edges=edges,
                expected_edges=expected,
                fill=fill,
            )
        )
        alive_rows = alive_rows & ~keep_rows
    return blocks


def _peel(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    weight: NDArray[np.float64],
    alive_rows: NDArray[np.bool_],
    n_rows: int,
    n_cols: int,
    epsilon: float,
    stats: object,
    *,
    min_lift: float,
    min_fill: float,
    min_accounts: int,
    min_targets: int,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]] | None:
    """Peel down from everything alive; the densest snapshot that passes the chance test."""
    keep_rows = alive_rows.copy()
    keep_cols = np.zeros(n_cols, dtype=bool)
    keep_cols[cols[keep_rows[rows]]] = True
    best: tuple[float, NDArray[np.bool_], NDArray[np.bool_]] | None = None
    while keep_rows.any() and keep_cols.any():
        inside = keep_rows[rows] & keep_cols[cols]
        w = weight[inside]
        row_mass = np.bincount(rows[inside], weights=w, minlength=n_rows)
        col_mass = np.bincount(cols[inside], weights=w, minlength=n_cols)
        nodes = int(keep_rows.sum() + keep_cols.sum())
        density = float(w.sum()) / nodes
        edges, expected, fill = stats(keep_rows, keep_cols)  # type: ignore[operator]
        if (best is None or density > best[0]) and _passes(
            edges,
            expected,
            fill,
            int(keep_rows.sum()),
            int(keep_cols.sum()),
            min_lift=min_lift,
            min_fill=min_fill,
            min_accounts=min_accounts,
            min_targets=min_targets,
        ):
            best = (density, keep_rows.copy(), keep_cols.copy())
        cut = 2.0 * (1.0 + epsilon) * density
        next_rows = keep_rows & (row_mass >= cut)
        next_cols = keep_cols & (col_mass >= cut)
        if next_rows.sum() == keep_rows.sum() and next_cols.sum() == keep_cols.sum():
            # no node below the cut: drop the weakest one so peeling always moves on
            masses = np.where(keep_rows, row_mass, np.inf)
            col_masses = np.where(keep_cols, col_mass, np.inf)
            if masses.min() <= col_masses.min():
                next_rows[int(masses.argmin())] = False
            else:
                next_cols[int(col_masses.argmin())] = False
        keep_rows, keep_cols = next_rows, next_cols
    if best is None:
        return None
    return best[1], best[2]
