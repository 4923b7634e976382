"""The sample pools of many problems in one flat (CSR) layout, the input of every estimator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Pool:
    """Pooled samples of ``P`` problems: problem ``i`` owns rows ``offsets[i]:offsets[i + 1]``.

    ``correct`` is 0/1 per sample; ``cluster`` holds problem-local answer-cluster codes
    ``0..G_i-1`` with ``-1`` for a sample without a parsed answer (it abstains from votes);
    ``reward`` is the (aggregated) reward score per sample. Greedy samples are not in a pool.
    """

    offsets: np.ndarray
    correct: np.ndarray
    cluster: np.ndarray | None = None
    reward: np.ndarray | None = None

    @property
    def n_problems(self) -> int:
        return len(self.offsets) - 1

    @property
    def sizes(self) -> np.ndarray:
        """Samples per problem, ``n_i``."""
        return np.diff(self.offsets)

    @property
    def problem_index(self) -> np.ndarray:
        """For every sample, the index of its problem."""
        return np.repeat(np.arange(self.n_problems), self.sizes)

    @classmethod
    def from_problems(
        cls,
        correct: Sequence[Sequence[bool]],
        clusters: Sequence[Sequence[object]] | None = None,
        rewards: Sequence[Sequence[float]] | None = None,
    ) -> Pool:
        """A pool from per-problem lists; cluster labels: any hashable, ``None`` = no answer."""
        sizes = np.array([len(c) for c in correct], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        flat = np.concatenate([np.asarray(c, dtype=np.float64) for c in correct] or [np.zeros(0)])
        codes = None
        if clusters is not None:
            codes = np.concatenate(
                [_local_codes(labels) for labels in clusters] or [np.zeros(0, np.int64)]
            )
        reward = None
        if rewards is not None:
            reward = np.concatenate([np.asarray(r, np.float64) for r in rewards] or [np.zeros(0)])
        return cls(offsets, flat, codes, reward)

    def cluster_stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per problem: cluster sizes ``m`` and correct fractions ``q`` (flat, CSR by
        ``cluster_offsets``) and the number of samples without an answer ``z``."""
        if self.cluster is None:
            raise ValueError("this pool has no answer clusters")
        n_clusters = np.zeros(self.n_problems, dtype=np.int64)
        pid = self.problem_index
        has = self.cluster >= 0
        np.maximum.at(n_clusters, pid[has], self.cluster[has] + 1)
        cluster_offsets = np.concatenate([[0], np.cumsum(n_clusters)])
        flat = cluster_offsets[pid[has]] + self.cluster[has]
        m = np.bincount(flat, minlength=cluster_offsets[-1]).astype(np.int64)
        hits = np.bincount(flat, weights=self.correct[has], minlength=cluster_offsets[-1])
        q = np.divide(hits, m, out=np.zeros(len(m)), where=m > 0)
        z = np.bincount(pid[~has], minlength=self.n_problems).astype(np.int64)
        return m, q, cluster_offsets, z


def _local_codes(labels: Sequence[object]) -> np.ndarray:
    """Codes 0..G-1 in order of first appearance; ``None``/NaN -> -1."""
    codes, _ = pd.factorize(pd.Series(list(labels), dtype=object), use_na_sentinel=True)
    return codes.astype(np.int64)
