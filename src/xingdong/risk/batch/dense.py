"""Dense blocks in the account x target graph (FRAUDAR-style), tested against chance.

Targets are weighted 1 / log(degree + 5), so edges to popular targets - where a farm
hides its camouflage and where honest people crowd - count for little. Nodes are then
peeled greedily, a slice of the weakest at a time, each node's strength being its
weighted edges into what is left *minus* what its degree would give there by chance. An honest
person who follows popularity has about as many edges as chance gives, whatever their
activity; a member of a block has many more, so blocks are what is left at the end. The
edges still alive are compacted every round, so the whole peel costs a few passes over
the graph.

Of the peeling's snapshots, the one with the most excess weight per node is a block only
if it is unlikely by chance: many times the edges that the degrees of its accounts and
targets would give in a random graph, filled in, with enough accounts and targets, and so
far out in the Poisson tail that no block of its size would be that dense by luck anywhere
in the graph. A large sparse region fails that test, and so do the small blocks that are
dense by luck in any large graph.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from xingdong.risk.batch.arrays import sorted_distinct

_SLICE = 0.1
"""Share of the remaining accounts, and of the remaining targets, peeled per round."""


@dataclass(frozen=True)
class DenseBlock:
    accounts: NDArray[np.int64]
    targets: NDArray[np.int64]
    edges: int
    expected_edges: float
    """Edges a random graph with the same degrees would put in this block."""
    fill: float


@dataclass(frozen=True)
class _Graph:
    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    weight: NDArray[np.float64]
    row_degree: NDArray[np.float64]
    col_degree: NDArray[np.float64]
    total: int


@dataclass(frozen=True)
class _Test:
    min_lift: float
    min_fill: float
    min_accounts: int
    min_targets: int
    all_rows: int
    all_cols: int

    def passes(self, edges: int, expected: float, n_rows: int, n_cols: int) -> bool:
        if n_rows < self.min_accounts or n_cols < self.min_targets:
            return False
        if edges < self.min_fill * n_rows * n_cols or edges < self.min_lift * expected:
            return False
        # The peel searches among very many blocks, and some small one is always dense by
        # luck: the block's Poisson tail (Chernoff bound, in nats) must beat the number of
        # blocks of its size there are to choose from.
        mean = max(expected, 1e-9)
        surprise = edges * math.log(edges / mean) - edges + mean
        choices = n_rows * math.log(math.e * self.all_rows / n_rows) + n_cols * math.log(
            math.e * self.all_cols / n_cols
        )
        return surprise > choices


def densest_blocks(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    *,
    max_blocks: int = 10,
    min_lift: float = 5.0,
    min_fill: float = 0.3,
    min_accounts: int = 5,
    min_targets: int = 3,
) -> list[DenseBlock]:
    """Blocks of (account, target) edges, each unlikely by chance; accounts are removed
    once reported and the search goes on, up to ``max_blocks``."""
    if len(rows) == 0:
        return []
    # one integer per (account, target): a flat sort is many times faster than unique rows
    width = int(cols.max()) + 1
    pairs = sorted_distinct(rows.astype(np.int64) * width + cols)
    rows, cols = pairs // width, pairs % width
    row_degree = np.bincount(rows).astype(float)
    col_degree = np.bincount(cols).astype(float)
    graph = _Graph(
        rows, cols, 1.0 / np.log(col_degree[cols] + 5.0), row_degree, col_degree, len(rows)
    )
    test = _Test(
        min_lift,
        min_fill,
        min_accounts,
        min_targets,
        int((row_degree > 0).sum()),
        int((col_degree > 0).sum()),
    )
    alive_rows = row_degree > 0
    blocks: list[DenseBlock] = []
    while len(blocks) < max_blocks and alive_rows.sum() >= min_accounts:
        found = _peel(graph, alive_rows, test)
        if found is None:
            break
        # take every live account that covers at least half of the block's targets, and
        # keep the targets at least half of those accounts used
        into_block = np.bincount(rows[found[cols] & alive_rows[rows]], minlength=len(row_degree))
        block_rows = alive_rows & (into_block >= 0.5 * found.sum())
        from_block = np.bincount(cols[block_rows[rows]], minlength=len(col_degree))
        block_cols = found & (from_block >= 0.5 * block_rows.sum())
        pieces = [
            block
            for block in _pieces(graph, block_rows, block_cols)
            if test.passes(
                block.edges, block.expected_edges, len(block.accounts), len(block.targets)
            )
        ]
        if not pieces:
            break
        blocks.extend(pieces)
        alive_rows = alive_rows & ~block_rows
    return blocks


def _pieces(
    graph: _Graph, block_rows: NDArray[np.bool_], block_cols: NDArray[np.bool_]
) -> list[DenseBlock]:
    """The block split into its connected parts: two farms found together are two blocks."""
    inside = block_rows[graph.rows] & block_cols[graph.cols]
    rows, cols = graph.rows[inside], graph.cols[inside]
    if len(rows) == 0:
        return []
    n_rows = len(graph.row_degree)
    size = n_rows + len(graph.col_degree)
    links = coo_matrix((np.ones(len(rows)), (rows, cols + n_rows)), shape=(size, size))
    _, labels = connected_components(links, directed=False)
    pieces: list[DenseBlock] = []
    for label in np.unique(labels[rows]):
        part = labels[rows] == label
        accounts, targets = np.unique(rows[part]), np.unique(cols[part])
        edges = int(part.sum())
        expected = float(
            graph.row_degree[accounts].sum() * graph.col_degree[targets].sum() / graph.total
        )
        pieces.append(
            DenseBlock(accounts, targets, edges, expected, edges / (len(accounts) * len(targets)))
        )
    pieces.sort(key=lambda block: (-len(block.accounts), int(block.accounts[0])))
    return pieces


def _peel(graph: _Graph, alive_rows: NDArray[np.bool_], test: _Test) -> NDArray[np.bool_] | None:
    """Targets of the best snapshot that passes the chance test, or None."""
    n_rows, n_cols = len(graph.row_degree), len(graph.col_degree)
    keep = alive_rows[graph.rows]
    rows, cols, weight = graph.rows[keep], graph.cols[keep], graph.weight[keep]
    keep_rows = alive_rows.copy()
    keep_cols = np.zeros(n_cols, dtype=bool)
    keep_cols[cols] = True
    row_degree, col_degree, total = graph.row_degree, graph.col_degree, graph.total
    col_weight = 1.0 / np.log(col_degree + 5.0)
    best: tuple[float, NDArray[np.bool_]] | None = None
    first = True
    while len(rows):
        alive_r, alive_c = int(keep_rows.sum()), int(keep_cols.sum())
        if alive_r < test.min_accounts or alive_c < test.min_targets:
            break
        sum_row_degree = float(row_degree[keep_rows].sum())
        weighted_col_degree = float((col_degree * col_weight)[keep_cols].sum())
        row_excess = (
            np.bincount(rows, weights=weight, minlength=n_rows)
            - row_degree * weighted_col_degree / total
        )
        col_excess = (
            np.bincount(cols, weights=weight, minlength=n_cols)
            - col_weight * col_degree * sum_row_degree / total
        )
        excess = float(weight.sum()) - sum_row_degree * weighted_col_degree / total
        expected = sum_row_degree * float(col_degree[keep_cols].sum()) / total
        score = excess / (alive_r + alive_c)
        if (best is None or score > best[0]) and test.passes(len(rows), expected, alive_r, alive_c):
            best = (score, keep_cols.copy())
        # A slice of the weakest accounts and targets goes each round. Targets wait for the
        # first round: before any account is gone every target sits exactly at chance.
        keep_rows = keep_rows & (row_excess > _cut(row_excess, keep_rows))
        if not first:
            keep_cols = keep_cols & (col_excess > _cut(col_excess, keep_cols))
        first = False
        inside = keep_rows[rows] & keep_cols[cols]
        rows, cols, weight = rows[inside], cols[inside], weight[inside]
        # nodes left without edges are gone too
        keep_rows &= np.bincount(rows, minlength=n_rows) > 0
        keep_cols &= np.bincount(cols, minlength=n_cols) > 0
    return None if best is None else best[1]


def _cut(excess: NDArray[np.float64], alive: NDArray[np.bool_]) -> float:
    """The excess at or below which the weakest slice of the live nodes falls."""
    values = excess[alive]
    if len(values) == 0:
        return math.inf
    count = max(1, int(len(values) * _SLICE))
    return float(np.partition(values, count - 1)[count - 1])
