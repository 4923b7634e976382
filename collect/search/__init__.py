"""Tree search during collection: REBASE, beam search and MCTS with a process reward model.

``search(CollectConfig(...), SearchSpec(method, width, ...))`` writes a run whose samples are the
finished leaves; ``collect.search.allocation`` holds the pure width allocations.
"""

from collect.search.allocation import beam_widths, largest_remainder, rebase_widths, softmax_shares
from collect.search.runner import METHODS, SearchSpec, search

__all__ = [
    "METHODS",
    "SearchSpec",
    "beam_widths",
    "largest_remainder",
    "rebase_widths",
    "search",
    "softmax_shares",
]
