"""What every grader shares: the normal form of an answer, its text key, the reference rule.

``normalize_answer`` is applied to every extracted answer before grading; ``text_key`` is how
answers compare as strings; ``settle`` gives the correct answers of a problem one cluster.
"""

from __future__ import annotations

import re

Verdict = tuple[str | None, bool, str | None]  # (cluster key, correct, note) of one answer

_WRAPPERS = (("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)"), ("**", "**"))
_TEXT = re.compile(r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mbox)\s*\{")
_SPACE_BY_SYMBOL = re.compile(r"\s*([^\w\s])\s*")


def braced(text: str, start: int) -> str | None:
    """The content of the brace group opening at ``text[start] == '{'`` (None if unbalanced)."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return None


def _strip_once(s: str) -> str:
    """Remove one layer of wrapping: a delimiter pair, a stray delimiter at either end (as left
    by "**ANSWER: 5**" or "\\[ \\text{ANSWER: } 5 \\]"), an unmatched closing brace, or a
    ``\\boxed{}`` around the whole answer."""
    s = s.strip().rstrip(".,;").strip()
    for left, right in _WRAPPERS:
        if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
            inner = s[len(left) : len(s) - len(right)]
            if left not in inner and right not in inner:
                return inner
            continue
        if s.endswith(right) and left not in s[: -len(right)]:
            return s[: -len(right)]
        if s.startswith(left) and right not in s[len(left) :]:
            return s[len(left) :]
    if s.endswith("}") and s.count("}") > s.count("{"):
        return s[:-1]
    if s.startswith("}") and s.count("}") > s.count("{"):
        return s[1:]
    if s.startswith(("\\boxed{", "\\fbox{")):
        inner = braced(s, s.index("{"))
        if inner is not None and len(inner) == len(s) - s.index("{") - 2:
            return inner
    return s


def normalize_answer(answer: str | None) -> str | None:
    """Collapse whitespace; strip math delimiters, ``\\boxed{}``, markdown bold, a final period."""
    if answer is None:
        return None
    s, previous = " ".join(answer.split()), None
    while s and s != previous:
        s, previous = _strip_once(s), s
    return s or None


def text_key(answer: str) -> str:
    """An answer as text: ``\\text{...}``-style wrappers around the whole of it removed, case
    folded, whitespace collapsed and dropped beside anything but a letter or digit
    ("\\text{No Solution}" -> "no solution", "x + y = 24" -> "x+y=24")."""
    s = answer.strip()
    while (m := _TEXT.match(s)) and (inner := braced(s, m.end() - 1)) is not None:
        if m.end() + len(inner) + 1 != len(s):
            break
        s = inner.strip()
    return _SPACE_BY_SYMBOL.sub(r"\1", " ".join(s.split())).casefold()


def settle(reference_key: str | None, verdicts: list[Verdict]) -> list[Verdict]:
    """Every correct answer takes the reference's key, so a problem's correct answers form one
    cluster; a wrong answer whose own key equals it is marked apart ("KEY (not the reference)")."""
    if reference_key is None:
        return verdicts
    out = []
    for key, correct, note in verdicts:
        if correct:
            key = reference_key
        elif key == reference_key:
            key = f"{key} (not the reference)"
        out.append((key, correct, note))
    return out
