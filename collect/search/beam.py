"""Beam search with a PRM (Snell et al. 2024): N beams, beam width M.

N first steps are sampled; then, depth by depth, finished solutions leave (each lowering the
remaining budget B, initially N), the top ceil(B/M) open partial solutions by PRM score are kept
(N/M while no solution has finished) and each is expanded M times (``beam_widths``), up to the
depth cap. The finished solutions are the leaves; the simulator's weighted best-of-N picks among
them. N must be a multiple of M.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from collect.search.allocation import beam_widths
from collect.search.rebase import search_levels
from collect.search.tree import Expander, Tree
from scaling.errors import ScalingError


def beam_search(trees: Sequence[Tree], expander: Expander, width: int, beam_width: int) -> None:
    """Beam search with ``width`` N beams, keeping N/M and expanding each ``beam_width`` M times."""
    if beam_width < 1 or width % beam_width:
        raise ScalingError(
            f"--beam-width {beam_width}: must divide --width {width} (Snell et al. keep N/M beams)"
        )
    search_levels(trees, expander, width, partial(beam_widths, beam_width=beam_width))
