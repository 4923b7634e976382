"""The ``math`` grader: equivalence and cluster keys with math-verify; non-math answers as text.

Each answer is read as one of three kinds:

- **text**, compared as text (``text_key``: case folded, ``\\text{}`` removed), when
  math-verify parses nothing; when it has four or more words (prose is not parsed: math-verify
  would read it as a product of letters, slowly); or when math-verify read a word of it as
  variables: a run of three or more letters (two when it is the whole answer, as "no") that is
  not a LaTeX command and all of whose letters but e and i (read as constants) name the parse's
  free symbols or undefined functions ("None" -> E*n*n*o, "yes", "Monday", "sin(x)" ->
  i*s*n(x), "\\text{Evelyn}" -> the symbol evelyn). Units math-verify drops ("5 cm") and
  functions written as commands ("\\log x", "\\max(a, b)") are not such words; a product
  written as a three-letter word ("abc") is.
  A text answer is correct only against a text reference with the same text key.
- **relation**, an equation whose left side is not a lone variable ("x + y = 24",
  "(8-4)*6 = 24", "BC = 4"): judged by math-verify, which compares its right side with a
  reference that is not an equation (so "m + n = 62" answers "find m + n" = 62); keyed by its
  text, left side included, so wrong equations and unreferenced ones do not pool by their right
  side. When the left side is the answer (Game of 24), use a ``python:`` grader.
- **math**, everything else, judged by ``math_verify.verify`` and keyed by a canonical form of
  its parse, computed from the answer alone (so keys agree across batches):

  - numbers (integers, fractions, decimals, roots, percentages) become their decimal value
    rounded to 6 places, math-verify's own ``float_rounding``: "1/2", "0.5", "50\\%" -> ``0.5``;
  - an equation whose left side is a lone variable (``x``, ``a_1``, ``\\alpha``, ``f(x)``; or
    ``x \\in S``) keeps its right-hand side ("x = 5" -> ``5``), as math-verify does against a
    gold answer that is not an equation;
  - expressions in variables become their value at a fixed point of those variables, so
    "(x+1)^2" and "x^2+2x+1" share ``f(x) = 3.837461`` (the equality ``verify`` finds);
  - sets, intervals, tuples and matrices keep sympy's printed form (sets are sorted, so
    "\\{2,1\\}" and "1,2" share ``{1, 2}``).

Every answer judged correct takes the reference's key (``settle``). What math-verify decides,
documented by the tests: units and ``\\text`` are dropped ("5 cm" equals "5"), a percentage
equals both its fraction and its number ("50\\%" equals "0.5" and "50"), "10{,}000" equals
"10000", leading zeros are dropped ("026" equals "26"), and a decimal equals a fraction when
both round to the same 6 decimals ("0.333333" equals "1/3", "0.333" does not).

math-verify's timeouts use SIGALRM, which works only in a process's main thread: this grader
runs in the grading pool (``POOLED``), each answer's parse, key and comparison bounded by
``seconds``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from decimal import Context, Decimal, InvalidOperation
from functools import lru_cache

from scaling.errors import ArgumentError
from scaling.graders.base import Verdict, settle, text_key

POOLED = True
PROSE_WORDS = 4  # an "answer" with this many words is prose: compared as text, not parsed
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")  # letter runs that are not LaTeX commands
_CONSTANT_LETTERS = frozenset("ei")  # math-verify reads e and i as Euler's number and sqrt(-1)
_ASSIGNMENT = re.compile(  # a lone variable, then "=" or "\in": x =, a_1 =, \alpha =, f(x) =
    r"\s*(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{\w+\}|_\w)?(?:\s*\([^()=]*\))?\s*(?:=|\\in(?![A-Za-z]))"
)
_DECIMALS = Decimal("1e-6")
_HUGE = 1e6  # exponents / factorial arguments above this are not evaluated numerically
_BIG_FUNCS = ("factorial", "factorial2", "subfactorial", "gamma", "binomial", "RisingFactorial")


def option(text: str | None) -> str | None:
    """``math`` takes no option."""
    if text is not None:
        raise ArgumentError("grader", f"math:{text}", "math takes no option; pass math")
    return None


def settings(option: str | None) -> dict:
    from importlib.metadata import version

    return {"library": f"math-verify {version('math-verify')}"}


@lru_cache(maxsize=1 << 16)
def _parse(answer: str, seconds: int) -> tuple:
    """math-verify's parse of an answer given without delimiters (wrapped in ``\\boxed{}``);
    nothing for prose."""
    from math_verify import parse

    if len(_WORD.findall(answer)) >= PROSE_WORDS:
        return ()
    return tuple(parse(f"\\boxed{{{answer}}}", parsing_timeout=seconds))


def _expr(parsed: tuple):
    from sympy import Basic, MatrixBase

    return next((x for x in parsed if isinstance(x, (Basic, MatrixBase))), None)


def _reads_words_as_variables(answer: str, expr) -> bool:
    """Whether math-verify read a word of ``answer`` as variables (see the module docstring)."""
    from sympy.core.function import AppliedUndef

    names = [str(s) for s in getattr(expr, "free_symbols", ())]
    names += [str(f.func) for f in expr.atoms(AppliedUndef)] if hasattr(expr, "atoms") else []
    if not names:
        return False
    letters = set("".join(names).casefold())
    whole = text_key(answer)
    for run in _WORD.findall(answer):
        if len(run) < 3 and run.casefold() != whole:
            continue
        needed = set(run.casefold()) - _CONSTANT_LETTERS
        if needed and needed <= letters:
            return True
    return False


def _kind(answer: str, parsed: tuple) -> str:
    """ "text", "relation" or "math" (see the module docstring)."""
    from math_verify.grader import is_equation

    expr = _expr(parsed)
    if expr is None or _reads_words_as_variables(answer, expr):
        return "text"
    if is_equation(expr) and not _ASSIGNMENT.match(answer):
        return "relation"
    return "math"


def _tame(expr) -> bool:
    """Whether numeric evaluation is safe: no power tower or factorial of astronomical size.

    Inner nodes are checked first, so no huge exponent is ever evaluated (a tower such as
    2^(2^(2^30)) would otherwise run in C code that no alarm interrupts)."""
    from sympy import Pow, postorder_traversal

    for node in postorder_traversal(expr):
        if isinstance(node, Pow):
            args = (node.exp,)
        elif type(node).__name__ in _BIG_FUNCS:
            args = node.args
        else:
            continue
        for arg in args:
            if arg.is_number and abs(arg.evalf(5)) > _HUGE:
                return False
    return True


def _number_key(expr) -> str | None:
    """Decimal value rounded to 6 places, for a finite real number; else None."""
    from sympy import Integer, UnevaluatedExpr

    if isinstance(expr, Integer):
        return str(int(expr))
    expr = expr.xreplace({u: u.args[0] for u in expr.atoms(UnevaluatedExpr)})  # percentages
    if not _tame(expr):
        return None
    value = expr.evalf(30)
    if not (value.is_real and value.is_finite):
        return None
    try:
        d = Decimal(str(value)).quantize(_DECIMALS, context=Context(prec=80))
    except InvalidOperation:
        return str(value.evalf(15))
    return "0" if d == 0 else format(d.normalize(), "f")


def _fingerprint(expr) -> str | None:
    """The key of a symbolic expression: its variables and its value at a fixed point of them.

    Equal expressions ("(x+1)^2", "x^2+2x+1") get equal keys whatever else is graded with them,
    so keys agree across batches; None for anything but a tame expression in variables."""
    from sympy import Expr

    if not isinstance(expr, Expr) or not expr.free_symbols or not _tame(expr):
        return None
    names = sorted(str(x) for x in expr.free_symbols)
    point = {
        x: 1 + (int(hashlib.sha256(str(x).encode()).hexdigest()[:8], 16) % 997) / 1009
        for x in expr.free_symbols
    }
    value = complex(expr.subs(point).evalf(15))
    if not (math.isfinite(value.real) and math.isfinite(value.imag)):
        return None
    re_part, im_part = (f"{v:.6f}".rstrip("0").rstrip(".") for v in (value.real, value.imag))
    re_part, im_part = ("0" if p in ("-0", "") else p for p in (re_part, im_part))
    at = re_part if im_part == "0" else f"{re_part}{'' if im_part[0] == '-' else '+'}{im_part}i"
    return f"f({', '.join(names)}) = {at}"


def _key(parsed: tuple, text: str, seconds: int) -> str:
    """The cluster key of a parsed math answer (its text key when no canonical form is found)."""
    from math_verify.errors import TimeoutException
    from math_verify.grader import is_equation, take_last_relation
    from math_verify.utils import timeout

    expr = _expr(parsed)

    @timeout(seconds)
    def canonical() -> str:
        nonlocal expr
        if is_equation(expr):
            expr = take_last_relation(expr).rhs
        if getattr(expr, "is_number", False):
            number = _number_key(expr)
            if number is not None:
                return number
        try:
            return _fingerprint(expr) or str(expr)
        except (TypeError, ValueError, ArithmeticError):
            return str(expr)

    try:
        return canonical()
    except (Exception, TimeoutException):
        return text_key(text)


def _read(answer: str, seconds: int) -> tuple[tuple, str, str]:
    """(parse, kind, cluster key) of one answer."""
    parsed = _parse(answer, seconds)
    kind = _kind(answer, parsed)
    return parsed, kind, _key(parsed, answer, seconds) if kind == "math" else text_key(answer)


def _timed(fn, *args, **kwargs):
    start = time.monotonic()
    return fn(*args, **kwargs), time.monotonic() - start


def grade_group(
    reference: str | None, answers: tuple[str, ...], option: str | None, seconds: int
) -> list[Verdict]:
    """(cluster key, correct, note) for each of one problem's distinct normalized answers."""
    from math_verify import verify

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # timeouts are reported as notes
    gold_parsed, gold_kind, gold_key = (
        _read(reference, seconds) if reference is not None else ((), "text", None)
    )
    out: list[Verdict] = []
    for answer in answers:
        note = None
        (parsed, kind, key), took = _timed(_read, answer, seconds)
        if not parsed and took >= seconds:
            note = "parsing timed out"
        correct = False
        if reference is None:
            pass
        elif "text" in (kind, gold_kind):
            correct = kind == gold_kind and key == gold_key
        else:
            try:
                correct, took = _timed(
                    verify, list(gold_parsed), list(parsed), timeout_seconds=seconds
                )
            except Exception as e:  # math-verify catches its own errors; this is a last guard
                note = f"comparison failed: {type(e).__name__}"
            if not correct and took >= seconds:
                note = "comparison timed out"
        out.append((key, bool(correct), note))
    return settle(gold_key, out)
