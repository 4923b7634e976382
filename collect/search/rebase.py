"""REBASE (Wu et al. 2024, §3.1.2), and the level-by-level loop it shares with beam search.

Per problem, with width N: the root gets N children (N first steps). Then, depth by depth, the
PRM has scored every new node; the finished ones leave the tree as leaves and each lowers the
remaining budget B (initially N) by one; the open ones split B by ``allocate`` (for REBASE
``rebase_widths``: softmax of the rewards at temperature T, rounded to sum exactly to B) and get
that many children each. Because the children of a round number exactly B, the open nodes after
a round number exactly the new B: the search stops when B = 0 (N leaves) or at the depth cap
(where open nodes are cut and fewer than N leaves come out). Every problem advances one depth per
round, so all the problems searched together share each ``generate`` call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from collect.search.allocation import rebase_widths
from collect.search.tree import DONE, OPEN, Expander, Tree

Allocate = Callable[[list[float], int], list[int]]


def search_levels(
    trees: Sequence[Tree], expander: Expander, width: int, allocate: Allocate
) -> None:
    """Grow every tree level by level, ``allocate(rewards, budget)`` giving each open node's width.

    Fills ``tree.leaves`` (at most ``width``) and records each round's widths in ``tree.widths``.
    """
    budget = {id(tree): width for tree in trees}
    frontier = {id(tree): [(tree.root, width)] for tree in trees}
    for tree in trees:
        tree.widths.append([width])
    while True:
        requests = [
            (tree, node, count) for tree in trees for node, count in frontier[id(tree)] if count
        ]
        if not requests:
            return
        children = expander.expand(requests)
        new: dict[int, list] = {id(tree): [] for tree in trees}
        for (tree, _, _), kids in zip(requests, children, strict=True):
            new[id(tree)].extend(kids)
        for tree in trees:
            kids = new[id(tree)]
            done = [c for c in kids if c.status == DONE]
            tree.leaves.extend(done)
            budget[id(tree)] -= len(done)
            open_nodes = [c for c in kids if c.status == OPEN]
            left = budget[id(tree)]
            if not open_nodes or left == 0:
                frontier[id(tree)] = []
                continue
            widths = allocate([c.reward for c in open_nodes], left)
            tree.widths.append(widths)
            frontier[id(tree)] = list(zip(open_nodes, widths, strict=True))


def rebase(trees: Sequence[Tree], expander: Expander, width: int, temperature: float = 0.1) -> None:
    """REBASE with ``width`` N and softmax temperature T over the PRM rewards."""
    search_levels(trees, expander, width, partial(rebase_widths, temperature=temperature))
