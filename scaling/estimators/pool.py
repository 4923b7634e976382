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

    def split_first(self, m: int) -> tuple[Pool, Pool]:
        """(each problem's first ``m`` samples, the rest): two pools of the same problems, their
        answer clusters renumbered ``0..G-1`` per problem in order of first appearance. Needs
        more than ``m`` samples in every problem."""
        position = np.arange(len(self.correct)) - np.repeat(self.offsets[:-1], self.sizes)
        head = position < m
        return self._rows(head), self._rows(~head)

    def _rows(self, keep: np.ndarray) -> Pool:
        """The pool of the samples ``keep`` (a mask over samples), clusters renumbered."""
        pid = self.problem_index[keep]
        offsets = np.concatenate([[0], np.cumsum(np.bincount(pid, minlength=self.n_problems))])
        cluster = None
        if self.cluster is not None:
            kept, has = self.cluster[keep], self.cluster[keep] >= 0
            # codes in order of first appearance over (problem, cluster): a problem's clusters
            # get consecutive codes starting at its first one's
            codes, _ = pd.factorize(pid[has] * (int(kept.max(initial=0)) + 1) + kept[has])
            first = np.full(self.n_problems, np.iinfo(np.int64).max)
            np.minimum.at(first, pid[has], codes)
            cluster = np.full(len(kept), -1, dtype=np.int64)
            cluster[has] = codes - first[pid[has]]
        reward = None if self.reward is None else self.reward[keep]
        return Pool(offsets, self.correct[keep], cluster, reward)


def _local_codes(labels: Sequence[object]) -> np.ndarray:
    """Codes 0..G-1 in order of first appearance; ``None``/NaN -> -1."""
    codes, _ = pd.factorize(pd.Series(list(labels), dtype=object), use_na_sentinel=True)
    return codes.astype(np.int64)
