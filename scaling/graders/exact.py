"""The ``exact`` grader: an answer is correct when its text equals the reference's.

Both sides are normalized (``normalize_answer``: delimiters, ``\\boxed{}``, bold and a final
period removed) and compared by ``text_key``: ``\\text{}`` wrappers removed, case folded,
whitespace collapsed and dropped beside symbols. So "Yes" equals "yes", "\\text{Paris}" equals
"paris" and "x + 1" equals "x+1", but "0.5" does not equal "1/2". The cluster key is the text
key.
"""

from __future__ import annotations

from scaling.errors import ArgumentError
from scaling.graders.base import Verdict, normalize_answer, settle, text_key

POOLED = False


def option(text: str | None) -> str | None:
    """``exact`` takes no option."""
    if text is not None:
        raise ArgumentError("grader", f"exact:{text}", "exact takes no option; pass exact")
    return None


def settings(option: str | None) -> dict:
    return {"compare": "text key: case folded, whitespace and \\text{} removed"}


def grade_group(
    reference: str | None, answers: tuple[str, ...], option: str | None, seconds: int
) -> list[Verdict]:
    """(cluster key, correct, note) for each of one problem's distinct normalized answers."""
    gold = normalize_answer(reference)
    gold_key = None if gold is None else text_key(gold)
    verdicts = [
        (text_key(a), gold_key is not None and text_key(a) == gold_key, None) for a in answers
    ]
    return settle(gold_key, verdicts)
