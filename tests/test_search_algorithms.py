"""REBASE, beam search and MCTS on a scripted policy and PRM: the search invariants.

The scripted policy draws each step from the request's seed alone (like a real backend), so the
trees are reproducible and the invariants can be checked over many random settings quickly. The
end-to-end runs on the tiny transformers models are in ``test_search_e2e.py``.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collect.backends.base import Backend, Completion, Sampling, room, sample_seed
from collect.rewards import RewardScore, split_steps
from collect.search.beam import beam_search
from collect.search.mcts import mcts, select
from collect.search.rebase import rebase
from collect.search.tree import CUT, DONE, OPEN, Expander, Tree
from scaling.errors import ScalingError


class ScriptedPolicy(Backend):
    """Steps drawn from each request's seed: a final answer with probability ``finish``."""

    name = "scripted"

    def __init__(self, finish: float = 0.3, long_steps: float = 0.0, max_context=None):
        self.finish = finish
        self.long_steps = long_steps
        self.max_context = max_context  # a prompt's tokens are its characters
        self.requests: list[tuple[str, int, tuple[str, ...]]] = []

    @classmethod
    def from_config(cls, config, tokenizer):
        return cls()

    def _generate(self, prompts, sampling, seeds, stop):
        out = []
        for prompt, seed in zip(prompts, seeds, strict=True):
            self.requests.append((prompt, seed, tuple(stop)))
            rng = random.Random(seed)
            tokens = rng.randint(1, 6)
            left = room(sampling.max_tokens, len(prompt), self.max_context)
            if tokens >= left and self.max_context is not None:
                out.append(Completion("step", len(prompt), left, "length"))
            elif rng.random() < self.long_steps:
                cap = sampling.max_tokens
                out.append(Completion(f"long {seed % 97}", len(prompt), cap, "length"))
            elif rng.random() < self.finish:
                text = f"The final answer is \\boxed{{{rng.randint(1, 3)}}}."
                out.append(Completion(text, len(prompt), tokens, "stop"))
            else:
                text = f"step {rng.randint(0, 999)}"
                out.append(Completion(text, len(prompt), tokens, "stop", stop[0]))
        return out


class ScriptedPRM:
    """A PRM whose score of a step is a hash of its text; it reads one token per character."""

    kind = "prm"
    model_id = "scripted-prm"

    def __init__(self):
        self.read: list[str] = []

    def score(self, questions, completions):
        self.read.extend(completions)
        return [
            RewardScore(
                None,
                [
                    int(hashlib.sha256(s.encode()).hexdigest()[:8], 16) / 2**32
                    for s in split_steps(c)
                ],
                len(c),
            )
            for c in completions
        ]


def make(
    n_trees=2,
    *,
    finish=0.3,
    long_steps=0.0,
    max_depth=8,
    max_tokens=1000,
    max_context=None,
    **options,
):
    policy, prm = ScriptedPolicy(finish, long_steps, max_context), ScriptedPRM()
    expander = Expander(
        policy,
        prm,
        Sampling(0.7, 1.0, max_tokens),
        max_step_tokens=options.pop("max_step_tokens", 8),
        max_depth=max_depth,
        seed=options.pop("seed", 0),
        **options,
    )
    trees = [Tree(f"p{i}", f"question {i}", f"Problem {i}.\n") for i in range(n_trees)]
    return trees, expander, policy, prm


def nodes(tree):
    return [n for n in tree.root.walk() if n is not tree.root]


def check_accounting(tree, width):
    """Leaves are exactly the finished nodes; costs add up; leaves + cut = width."""
    all_nodes = nodes(tree)
    assert {id(n) for n in tree.leaves} == {id(n) for n in all_nodes if n.status == DONE}
    assert len(tree.leaves) + tree.cut == width
    assert tree.cut == sum(n.status == CUT for n in all_nodes)
    assert tree.expansions == len(all_nodes)
    assert tree.policy_tokens == sum(n.tokens for n in all_nodes)
    for leaf in tree.leaves:
        assert leaf.path_tokens == sum(s.tokens for s in leaf.steps())
        assert leaf.finish_reason in ("stop", "length")


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=12),
    st.floats(min_value=0.05, max_value=0.9),
    st.integers(min_value=1, max_value=6),
    st.sampled_from([0.0, 0.1, 1.0]),
    st.integers(min_value=0, max_value=10**6),
)
def test_rebase_budget_and_leaves(width, finish, max_depth, temperature, seed):
    trees, expander, _, _ = make(finish=finish, max_depth=max_depth, seed=seed)
    rebase(trees, expander, width, temperature)
    for tree in trees:
        check_accounting(tree, width)
        assert tree.widths[0] == [width]
        # every round's widths sum exactly to the budget left: N minus the solutions finished
        for depth, widths in enumerate(tree.widths[1:], start=1):
            finished = sum(leaf.depth <= depth for leaf in tree.leaves)
            assert sum(widths) == width - finished
            level = [n for n in nodes(tree) if n.depth == depth and n.status == OPEN]
            assert [len(n.children) for n in level] == widths
        assert len(tree.leaves) == width or tree.cut > 0  # fewer only at the depth cap
        if tree.cut:
            assert max(n.depth for n in nodes(tree)) == max_depth


def test_rebase_without_a_depth_cap_gives_exactly_n_leaves():
    trees, expander, _, _ = make(n_trees=3, finish=0.4, max_depth=100)
    rebase(trees, expander, 16, 0.1)
    assert [len(t.leaves) for t in trees] == [16, 16, 16]
    assert all(t.cut == 0 for t in trees)


def test_rebase_follows_the_allocation_rule():
    trees, expander, _, _ = make(n_trees=1, finish=0.2, max_depth=50)
    rebase(trees, expander, 12, 0.0)
    tree = trees[0]
    for depth, widths in enumerate(tree.widths[1:], start=1):
        level = [n for n in nodes(tree) if n.depth == depth and n.status == OPEN]
        best = max(n.reward for n in level)
        assert all(w == 0 for n, w in zip(level, widths, strict=True) if n.reward < best)


def test_rebase_is_reproducible_and_seeds_follow_node_paths():
    trees, expander, policy, _ = make(n_trees=2)
    rebase(trees, expander, 6, 0.1)
    again, expander2, policy2, _ = make(n_trees=2)
    rebase(again, expander2, 6, 0.1)
    assert [[leaf.solution for leaf in t.leaves] for t in trees] == [
        [leaf.solution for leaf in t.leaves] for t in again
    ]
    assert policy.requests == policy2.requests
    seeds = [seed for _, seed, _ in policy.requests]
    assert len(set(seeds)) == len(seeds)  # no two expansions share a random stream
    leaf = trees[0].leaves[-1]
    parent = leaf.parent
    expected = sample_seed(0, "p0#" + ".".join(map(str, parent.path)), leaf.index)
    assert any(s == expected for _, s, _ in policy.requests)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from([(4, 1), (4, 2), (4, 4), (8, 2), (8, 4), (6, 3)]),
    st.floats(min_value=0.05, max_value=0.8),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=0, max_value=10**6),
)
def test_beam_search_keeps_n_over_m(nm, finish, max_depth, seed):
    width, beam = nm
    trees, expander, _, _ = make(finish=finish, max_depth=max_depth, seed=seed)
    beam_search(trees, expander, width, beam)
    for tree in trees:
        check_accounting(tree, width)
        for depth, widths in enumerate(tree.widths[1:], start=1):
            kept = [w for w in widths if w]
            finished = sum(leaf.depth <= depth for leaf in tree.leaves)
            assert sum(widths) == width - finished
            assert len(kept) <= width // beam
            assert sorted(kept, reverse=True)[:-1] == [beam] * (len(kept) - 1)
            level = [n for n in nodes(tree) if n.depth == depth and n.status == OPEN]
            expanded = [n for n, w in zip(level, widths, strict=True) if w]
            dropped = [n for n, w in zip(level, widths, strict=True) if not w]
            if expanded and dropped:
                assert min(n.reward for n in expanded) >= max(n.reward for n in dropped)


def test_beam_width_must_divide_the_width():
    trees, expander, _, _ = make()
    with pytest.raises(ScalingError, match="must divide"):
        beam_search(trees, expander, 6, 4)


def check_visits(node):
    """N(v) = [v is not the root] + sum of the children's N; W(v) likewise with rewards."""
    own = 0 if node.parent is None else 1
    own_value = 0.0 if node.parent is None else node.reward
    assert node.visits == own + sum(c.visits for c in node.children)
    assert node.value_sum == pytest.approx(own_value + sum(c.value_sum for c in node.children))
    for child in node.children:
        check_visits(child)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=1, max_value=10),
    st.integers(min_value=1, max_value=4),
    st.floats(min_value=0.05, max_value=0.9),
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=0, max_value=10**6),
)
def test_mcts_visit_counts_add_up(rollouts, branching, finish, max_depth, seed):
    trees, expander, _, _ = make(finish=finish, max_depth=max_depth, seed=seed)
    mcts(trees, expander, rollouts, branching)
    for tree in trees:
        check_accounting(tree, rollouts)  # every rollout ends in a leaf or at the depth cap
        check_visits(tree.root)
        assert tree.root.visits == len(nodes(tree)) == tree.expansions
        for node in tree.root.walk():  # a node grows past M children only when none can grow
            if len(node.children) > branching:
                assert all(c.status != OPEN for c in node.children[:-1])


def test_mcts_selects_by_uct():
    trees, expander, _, _ = make(n_trees=1, finish=0.0, max_depth=3)
    mcts(trees, expander, 2, branching=2)
    root = trees[0].root
    assert len(root.children) == 2  # the first M rollouts branch from the root
    a, b = root.children
    assert [len(a.children), len(b.children)] == [1, 1]  # each rollout went on to the depth cap
    a.visits, a.value_sum, b.visits, b.value_sum, root.visits = 10, 9.0, 1, 0.5, 11
    # UCT: a = 0.9 + c*sqrt(ln 11 / 10) = 0.9 + 0.49c, b = 0.5 + c*sqrt(ln 11) = 0.5 + 1.55c
    assert select(root, 2, 1.0) is b  # c = 1 explores the less visited child
    assert select(root, 2, 0.0) is a  # c = 0 exploits
    # M = 1: through a to its child, whose only child is cut: that node takes another child
    assert a.children[0].children[0].status == CUT
    assert select(root, 1, 0.0) is a.children[0]


def test_long_steps_continue_and_the_token_cap_finishes_a_solution():
    trees, expander, _, _ = make(
        n_trees=1, finish=0.0, long_steps=1.0, max_tokens=20, max_step_tokens=8, max_depth=10
    )
    rebase(trees, expander, 3, 0.1)
    tree = trees[0]
    assert len(tree.leaves) == 3
    for leaf in tree.leaves:
        assert leaf.finish_reason == "length"
        assert leaf.depth == 3 and leaf.path_tokens == 24  # 8 + 8 + 8 >= 20: less than a step over


def test_step_markers_rebuild_the_generated_text():
    trees, expander, policy, prm = make(
        n_trees=1, finish=0.3, delimiter="\nStep {k}:", max_depth=20
    )
    rebase(trees, expander, 4, 0.1)
    tree = trees[0]
    deep = max(tree.leaves, key=lambda n: n.depth)
    assert deep.depth >= 2
    steps = deep.steps()
    expected = steps[0].text + "".join(f"\nStep {s.depth}:" + s.text for s in steps[1:])
    assert deep.solution == expected
    parent = deep.parent
    prompt = tree.prompt + parent.solution + f"\nStep {parent.depth + 1}:"
    stops = {stop for p, _, stop in policy.requests if p == prompt}
    assert stops == {(f"\nStep {parent.depth + 2}:",)}
    assert expander.reward_text(deep).split("\n\n")[1].startswith("Step 2:")


def test_template_stop_strings_end_a_solution():
    trees, expander, policy, _ = make(n_trees=1, stop=("\n\nProblem:",))
    rebase(trees, expander, 2, 0.1)
    assert all(stop[1:] == ("\n\nProblem:",) for _, _, stop in policy.requests)


def test_expander_needs_a_prm():
    prm = ScriptedPRM()
    prm.kind = "orm"
    with pytest.raises(ScalingError, match="process reward model"):
        Expander(ScriptedPolicy(), prm, Sampling(), max_step_tokens=8, max_depth=3)


@settings(max_examples=30, deadline=None)
@given(
    width=st.integers(1, 8),
    context=st.integers(20, 60),
    seed=st.integers(0, 10_000),
)
def test_a_branch_that_fills_the_context_is_closed_as_a_leaf(width, context, seed):
    """The search goes on: capped branches become leaves at the cap and are counted."""
    trees, expander, _, _ = make(finish=0.1, max_depth=50, max_context=context, seed=seed)
    rebase(trees, expander, width)
    for tree in trees:
        check_accounting(tree, width)
        assert len(tree.leaves) == width  # nothing cut: the context closes every long branch
        capped = [
            leaf
            for leaf in tree.leaves
            if leaf.finish_reason == "length"
            and len(expander.prompt(tree, leaf.parent)) + leaf.tokens >= context
        ]
        assert tree.capped == len(capped)


def test_a_tight_context_caps_branches():
    """The property above is not vacuous: with little context some branch reaches the cap. (Drawn
    examples need not: each branch may finish before it, however small the context.)"""
    trees, expander, _, _ = make(finish=0.1, max_depth=50, max_context=24, seed=0)
    rebase(trees, expander, 4)
    assert sum(t.capped for t in trees) > 0
