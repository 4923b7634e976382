"""Process-reward step scores s_1..s_T aggregated to one reward per sample."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

AGGREGATIONS = ("last", "min", "prod", "mean")


def aggregate_step_rewards(
    step_rewards: pa.Array | pa.ChunkedArray | Sequence[Sequence[float] | None], agg: str = "last"
) -> np.ndarray:
    """Aggregate each sample's step scores: ``last`` = s_T (Wu et al., Snell et al.), ``min`` =
    min_t s_t, ``prod`` = prod_t s_t, ``mean`` = (1/T) sum_t s_t. An empty list gives 0; a
    missing list (null) gives NaN."""
    if agg not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {agg!r}; use one of {', '.join(AGGREGATIONS)}")
    if isinstance(step_rewards, pa.ChunkedArray):
        step_rewards = step_rewards.combine_chunks()
    if not isinstance(step_rewards, pa.Array):
        step_rewards = pa.array(list(step_rewards), type=pa.list_(pa.float64()))
    lengths = pc.fill_null(pc.list_value_length(step_rewards), 0).to_numpy().astype(np.int64)
    values = pc.list_flatten(step_rewards).to_numpy(zero_copy_only=False).astype(np.float64)
    out = np.zeros(len(lengths))
    full = lengths > 0
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[full]
    if agg == "last":
        out[full] = values[starts + lengths[full] - 1]
    elif agg == "min":
        out[full] = np.minimum.reduceat(values, starts) if len(values) else 0
    elif agg == "prod":
        out[full] = np.multiply.reduceat(values, starts) if len(values) else 0
    else:
        out[full] = np.add.reduceat(values, starts) / lengths[full] if len(values) else 0
    out[step_rewards.is_null().to_numpy(zero_copy_only=False)] = np.nan
    return out
