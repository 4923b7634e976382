"""Graders: whether an answer is correct, and which answers are equivalent (its cluster key).

A grader is named ``KIND`` or ``KIND:OPTION``; one module per KIND:

======================= =================================================================
math (the default)      math-verify equivalence; non-math answers compared as text
                        (``scaling.graders.symbolic``)
exact                   normalized text equality (``scaling.graders.exact``)
numeric[:TOL]           numbers within a relative tolerance, 1e-6 unless given
                        (``scaling.graders.numeric``)
python:MODULE:FUNCTION  your function (answer, reference) -> (correct, cluster)
                        (``scaling.graders.python``)
======================= =================================================================

The contract of a grader module (``grading.grade`` runs it over problems' distinct answers):

- ``grade_group(reference, answers, option, seconds) -> [(cluster, correct, note), ...]``:
  one problem's distinct normalized answers against its reference (None: no reference, every
  answer incorrect, keys only); ``seconds`` bounds each answer's work where the grader can;
- ``option(text) -> str | None``: checks the text after ``KIND:`` and returns its canonical
  form (raising ``ArgumentError`` for the argument ``grader``);
- ``settings(option) -> dict``: what a run records about the grader besides its name;
- ``POOLED``: True when it must run in the grading process pool (math-verify's SIGALRM
  timeouts need a main thread, and the pool enforces a deadline per answer).

Cluster keys are computed from each answer alone, so keys agree across batches.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from scaling.errors import ArgumentError

GRADERS: dict[str, str] = {
    "math": "symbolic",
    "exact": "exact",
    "numeric": "numeric",
    "python": "python",
}
DEFAULT = "math"
CHOICES = "math, exact, numeric[:TOL] or python:MODULE:FUNCTION"

__all__ = ["CHOICES", "DEFAULT", "GRADERS", "Grader", "get_grader"]


@dataclass(frozen=True)
class Grader:
    """A checked grader: ``kind`` (a key of ``GRADERS``) and its canonical ``option``."""

    kind: str
    option: str | None = None

    @property
    def name(self) -> str:
        """How a run records it: "math", "numeric:0.001", "python:mymodule:check"."""
        return self.kind if self.option is None else f"{self.kind}:{self.option}"

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"scaling.graders.{GRADERS[self.kind]}")

    @property
    def pooled(self) -> bool:
        return bool(self.module.POOLED)

    def describe(self) -> dict:
        """The grader as a run's manifest records it: its name and settings."""
        return {"name": self.name, **self.module.settings(self.option)}

    def grade_group(
        self, reference: str | None, answers: tuple[str, ...], seconds: int
    ) -> list[tuple[str | None, bool, str | None]]:
        return self.module.grade_group(reference, answers, self.option, seconds)


def get_grader(grader: str | Grader = DEFAULT) -> Grader:
    """The grader named ``grader`` ("math", "numeric:1e-4", "python:mymodule:check"), checked."""
    if isinstance(grader, Grader):
        return grader
    if not isinstance(grader, str):
        raise ArgumentError("grader", grader, f"choose {CHOICES}")
    kind, sep, text = grader.strip().partition(":")
    if kind not in GRADERS:
        raise ArgumentError("grader", grader, f"choose {CHOICES}")
    module = importlib.import_module(f"scaling.graders.{GRADERS[kind]}")
    return Grader(kind, module.option(text if sep else None))
