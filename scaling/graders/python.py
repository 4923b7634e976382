"""``python:MODULE:FUNCTION``: your own grader, a function of (answer, reference).

``FUNCTION(answer: str, reference: str | None) -> (correct: bool, cluster: str)`` is called once
per distinct normalized answer of a problem (``normalize_answer``: delimiters, ``\\boxed{}``,
bold and a final period removed; never None) with the problem's reference as given (None when
there is none). Its cluster keys are used as returned: equal keys mean equivalent answers for
majority voting. MODULE is imported as Python imports it, from the current directory too. The
function runs in the calling process, with no timeout: keep it fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from functools import lru_cache

from scaling.errors import ArgumentError, ScalingError
from scaling.graders.base import Verdict

POOLED = False


def option(text: str | None) -> str | None:
    """``MODULE:FUNCTION``, checked by importing it."""
    resolve(text)
    return text


def settings(option: str | None) -> dict:
    return {}


@lru_cache(maxsize=64)
def resolve(text: str | None) -> Callable:
    """The function named ``MODULE:FUNCTION``."""
    spec = f"python:{text}"
    module_name, _, name = (text or "").rpartition(":")
    if not module_name or not name:
        raise ArgumentError("grader", spec, "name the function as python:MODULE:FUNCTION")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ArgumentError("grader", spec, f"cannot import {module_name} ({e})") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise ArgumentError("grader", spec, f"{module_name} has no function {name}")
    return fn


def grade_group(
    reference: str | None, answers: tuple[str, ...], option: str | None, seconds: int
) -> list[Verdict]:
    """(cluster key, correct, note) for each answer, as the function returns them."""
    fn = resolve(option)
    out: list[Verdict] = []
    for answer in answers:
        try:
            result = fn(answer, reference)
        except Exception as e:
            raise ScalingError(
                f"grader python:{option}: {type(e).__name__}: {e} (answer {answer!r}, reference "
                f"{reference!r}); fix the function"
            ) from None
        ok = isinstance(result, tuple | list) and len(result) == 2
        if not ok or not isinstance(result[1], str) or str(result[0]) not in ("True", "False"):
            raise ScalingError(
                f"grader python:{option}: returned {result!r} for answer {answer!r}; "
                "return (correct: bool, cluster: str)"
            )
        out.append((result[1], bool(result[0]), None))
    return out
