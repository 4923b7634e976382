"""The ``numeric`` grader: numbers equal within a relative tolerance (``numeric:TOL``).

An answer is a number when, after ``normalize_answer``, it is an integer or decimal (with an
optional exponent, "1.5e-3", or "\\times 10^{k}"), a fraction "a/b" or "\\frac{a}{b}", with an
optional sign, thousands separators ("10,000", "10{,}000"), a leading "$" or a trailing "%"
(ignored: "50%" is 50). Anything else is not a number: graded incorrect, keyed by its text.

An answer a is correct against a reference r when |a - r| <= TOL * max(|a|, |r|) (Python's
``math.isclose`` with ``rel_tol=TOL``; exact against 0), computed on exact fractions. TOL is
1e-6 unless given ("numeric:0.01"). The key of a number is its value: an integer as itself,
else rounded to ceil(-log10 TOL) significant digits (an exact fraction when TOL is 0); a correct
answer takes the reference's key, so the correct answers of a problem form one cluster.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from scaling.errors import ArgumentError
from scaling.graders.base import Verdict, normalize_answer, settle, text_key

POOLED = False
TOLERANCE = 1e-6  # relative tolerance when none is given
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_RATIO = re.compile(r"([+-]?\d+)/(\d+)")
_FRAC = re.compile(r"([+-]?)\\[dt]?frac\{([+-]?\d+)\}\{(\d+)\}")
_TIMES_TEN = re.compile(r"(.+?)(?:\\times|\\cdot|\*)10\^(?:\{([+-]?\d+)\}|([+-]?\d))")


def option(text: str | None) -> str | None:
    """The relative tolerance, canonical (``numeric:1e-3`` -> "0.001"); None for the default."""
    if text is None:
        return None
    try:
        tol = float(text)
    except ValueError:
        tol = math.nan
    if not 0 <= tol < 1:
        raise ArgumentError(
            "grader", f"numeric:{text}", "give a relative tolerance in [0, 1), e.g. numeric:1e-4"
        )
    return repr(tol)


def _tolerance(option: str | None) -> float:
    return TOLERANCE if option is None else float(option)


def settings(option: str | None) -> dict:
    return {"rel_tol": _tolerance(option)}


def value(answer: str | None) -> Fraction | None:
    """The exact value of a number (see the module docstring); None for anything else."""
    s = normalize_answer(answer)
    if s is None:
        return None
    s = "".join(s.replace("{,}", ",").replace("\\,", "").replace("\\!", "").split())
    s = s.removeprefix("\\$").removeprefix("$").removesuffix("\\%").removesuffix("%")
    if m := _TIMES_TEN.fullmatch(s):
        base = value(m.group(1))
        power = int(m.group(2) or m.group(3))
        return None if base is None or abs(power) > 400 else base * Fraction(10) ** power
    if _GROUPED.fullmatch(s):
        s = s.replace(",", "")
    if m := _FRAC.fullmatch(s):
        sign, num, den = m.groups()
        return None if int(den) == 0 else Fraction(int(num), int(den)) * (-1 if sign == "-" else 1)
    if m := _RATIO.fullmatch(s):
        return None if int(m.group(2)) == 0 else Fraction(int(m.group(1)), int(m.group(2)))
    if _DECIMAL.fullmatch(s):
        try:
            number = Decimal(s)
        except InvalidOperation:
            return None
        return Fraction(number) if number.is_finite() and abs(number.adjusted()) < 400 else None
    return None


def _key(number: Fraction, tol: float) -> str:
    if number.denominator == 1:
        return str(number.numerator)
    if tol == 0:
        return str(number)
    return f"{float(number):.{max(1, math.ceil(-math.log10(tol)))}g}"


def grade_group(
    reference: str | None, answers: tuple[str, ...], option: str | None, seconds: int
) -> list[Verdict]:
    """(cluster key, correct, note) for each of one problem's distinct normalized answers."""
    tol = _tolerance(option)
    gold = value(reference)
    note = None
    if reference is not None and gold is None:
        note = f"the reference {reference!r} is not a number"
    verdicts = []
    for answer in answers:
        number = value(answer)
        if number is None:
            verdicts.append((text_key(answer), False, note))
            continue
        correct = gold is not None and abs(number - gold) <= Fraction(tol) * max(
            abs(number), abs(gold)
        )
        verdicts.append((_key(number, tol), correct, note))
    return settle(None if gold is None else _key(gold, tol), verdicts)
