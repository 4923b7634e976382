"""Graders: math (math-verify, non-math answers as text), exact, numeric, python:MODULE:FUNCTION."""

from __future__ import annotations

import math
import sys
import threading
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling.errors import ArgumentError, ScalingError
from scaling.graders import GRADERS, get_grader
from scaling.graders.base import text_key
from scaling.graders.numeric import value
from scaling.grading import cluster_answers, grade


def one(answer, reference, grader="math"):
    (g,) = grade([answer], [reference], workers=0, grader=grader)
    return g.correct, g.cluster


# -- math: when an answer is not math ----------------------------------------------------------
def test_none_is_text_not_a_product_of_letters():
    """The issue: "None" became the cluster f(n, o) = 7.963916 (math-verify read E*n*n*o)."""
    assert one("None", "5") == (False, "none")
    assert one("None", "None") == (True, "none")
    assert one("none", "\\text{None}") == (True, "none")
    assert cluster_answers(["None", "none", "NONE", "0"], workers=0) == ["none"] * 3 + ["0"]


def test_equations_keep_their_left_side_unless_judged_correct():
    """The issue: every "... = 24" equation clustered as "24". An equation whose left side is not
    a lone variable is keyed by its text; math-verify still judges it by its right side against
    a reference that is not an equation (so "m + n = 62" answers "find m + n")."""
    assert one("x + y = 24", "24") == (True, "24")
    assert one("m + n = 62", "62") == (True, "62")
    assert one("x + y = 25", "24") == (False, "x+y=25")
    keys = cluster_answers(["x + y = 24", "24", "(8-4)*6 = 24", "3*8=24", "3 * 8 = 24"], workers=0)
    assert keys == ["x+y=24", "24", "(8-4)*6=24", "3*8=24", "3*8=24"]
    # a lone variable on the left is an answer stated as an assignment: its right side counts
    assert (
        cluster_answers(["x = 24", "a_1 = 24", "\\alpha = 24", "f(x) = 2x+1"], workers=0)[:3]
        == ["24"] * 3
    )
    assert one("f(x) = 2x+1", "2x+1")[0] and one("x = 5", "5") == (True, "5")


def test_free_text_clusters_as_normalized_text():
    answers = [
        "The problem has no solution as stated",  # prose: four words or more
        "no solution",
        "No  Solution",
        "\\text{no solution}",
        "Monday",
        "monday",
        "yes",
        "Yes",
        "no",
        "NO",
    ]
    keys = cluster_answers(answers, workers=0)
    assert keys[0] == "the problem has no solution as stated"
    assert keys[1:4] == ["no solution"] * 3 and keys[4:6] == ["monday"] * 2
    assert keys[6:8] == ["yes"] * 2 and keys[8:] == ["no"] * 2
    assert one("no solution", "\\text{No solution}") == (True, "no solution")
    assert one("no solution", "5") == (False, "no solution")
    assert one("5", "\\text{no solution}") == (False, "5")
    assert one("Evelyn", "\\text{Evelyn}") == (True, "evelyn")  # MATH500 has such references


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        ("5 cm", "5"),  # units math-verify drops are not words
        ("\\log(x)", None),  # a LaTeX function
        ("\\max(a, b)", None),
        ("2xy", None),  # two-letter runs are products of variables
        ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "Matrix([[1], [2]])"),
        ("5.4 \\text{ cents}", "5.4"),
        ("x \\in (0, 1]", "Interval.Lopen(0, 1)"),
        ("\\infty", "oo"),
    ],
)
def test_math_answers_with_letters_stay_math(answer, key):
    (got,) = cluster_answers([answer], workers=0)
    assert got == key if key is not None else got.startswith("f(")


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        ("sin(x)", "sin(x)"),  # bare function names: math-verify reads i*s*n(x)
        ("log(x)", "log(x)"),
        ("undefined", "undefined"),
        ("DNE", "dne"),
        ("abc", "abc"),  # the documented cost: a three-letter product reads as a word
    ],
)
def test_words_read_as_variables_are_text(answer, key):
    assert cluster_answers([answer], workers=0) == [key]


def test_text_keys():
    assert text_key("\\text{ No  Solution }") == "no solution"
    assert text_key("x + y = 24") == "x+y=24"
    assert text_key("\\textbf{\\text{Paris}}") == "paris"
    assert text_key("\\text{a} + \\text{b}") == "\\text{a}+\\text{b}"  # not one wrapper


# -- exact ------------------------------------------------------------------------------------
def test_exact_compares_normalized_text():
    assert one("Yes", "yes", "exact") == (True, "yes")
    assert one("$\\text{Paris}$.", "paris", "exact") == (True, "paris")
    assert one("x + 1", "x+1", "exact") == (True, "x+1")
    assert one("0.5", "1/2", "exact") == (False, "0.5")
    assert one("None", "5", "exact") == (False, "none")
    graded = grade(["A", "a", "B", None], ["A"] * 4, workers=2, grader="exact")
    assert [g.correct for g in graded] == [True, True, False, False]
    assert [g.cluster for g in graded] == ["a", "a", "b", None]


# -- numeric ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("42", 42),
        ("-3.50", Fraction(-7, 2)),
        ("1,000", 1000),
        ("10{,}000.5", Fraction(20001, 2)),
        ("$18", 18),
        ("\\$18", 18),
        ("50%", 50),
        ("50\\%", 50),
        ("1/3", Fraction(1, 3)),
        ("-\\frac{1}{3}", Fraction(-1, 3)),
        ("\\dfrac{2}{4}", Fraction(1, 2)),
        ("1.5e-3", Fraction(3, 2000)),
        ("2 \\times 10^{3}", 2000),
        ("$\\boxed{7}$.", 7),
        ("x = 5", None),
        ("1,00", None),
        ("5 apples", None),
        ("1/0", None),
        ("", None),
    ],
)
def test_numbers_read(text, number):
    assert value(text) == number


def test_numeric_tolerance_is_relative():
    assert one("0.5000001", "0.5", "numeric") == (True, "0.5")  # within 1e-6 of 0.5
    assert one("0.501", "0.5", "numeric") == (False, "0.501")
    assert one("0.501", "0.5", "numeric:0.01") == (True, "0.5")
    assert one("1e-9", "0", "numeric") == (False, "1e-09")  # exact against 0
    assert one("1,000", "1000", "numeric") == (True, "1000")
    assert one("\\frac{1}{3}", "0.3333333", "numeric") == (True, "0.333333")
    assert one("x = 5", "5", "numeric") == (False, "x=5")
    (g,) = grade(["5"], ["about five"], workers=0, grader="numeric")
    assert not g.correct and g.note == "the reference 'about five' is not a number"


@settings(max_examples=60, deadline=None)
@given(
    st.fractions(min_value=-1000, max_value=1000, max_denominator=1000),
    st.fractions(min_value=-1000, max_value=1000, max_denominator=1000),
    st.sampled_from([0.0, 1e-6, 1e-3, 0.1]),
)
def test_numeric_verdicts_match_isclose(a, r, tol):
    """Brute force: the verdict is math.isclose's on the exact values (away from the edge)."""
    spec = "numeric" if tol == 1e-6 else f"numeric:{tol}"
    got, _ = one(f"{a.numerator}/{a.denominator}", f"{r.numerator}/{r.denominator}", spec)
    gap = abs(a - r) - Fraction(tol) * max(abs(a), abs(r))
    if abs(gap) > Fraction(1, 10**9):
        assert got == math.isclose(float(a), float(r), rel_tol=tol, abs_tol=0.0)
    assert got == (gap <= 0)


# -- python:MODULE:FUNCTION -------------------------------------------------------------------
@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_grader.py").write_text(
        "def game24(answer, reference):\n"
        "    left = answer.split('=')[0]\n"
        "    ok = sorted(c for c in left if c.isdigit()) == sorted(reference.split())\n"
        "    return ok and eval(left) == 24, left.replace(' ', '')\n"
        "def broken(answer, reference):\n"
        "    return 'yes'\n"
        "def raises(answer, reference):\n"
        "    raise KeyError(answer)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_grader"
    sys.modules.pop("my_grader", None)


def test_python_grader_decides_and_keys(user_module):
    answers = ["(8-4)*6 = 24", "3*8 = 24", "(8 - 4) * 6", "6*4*8/8=24"]
    graded = grade(answers, ["4 6 8 8"] * 4, grader=f"python:{user_module}:game24")
    assert [g.correct for g in graded] == [False, False, False, True]
    assert [g.cluster for g in graded] == ["(8-4)*6", "3*8", "(8-4)*6", "6*4*8/8"]
    grader = get_grader(f"python:{user_module}:game24")
    assert grader.name == "python:my_grader:game24" and not grader.pooled


def test_python_grader_errors(user_module):
    with pytest.raises(ArgumentError, match="cannot import no_such_module") as e:
        get_grader("python:no_such_module:f")
    assert e.value.argument == "grader"
    with pytest.raises(ArgumentError, match="my_grader has no function nothing"):
        get_grader(f"python:{user_module}:nothing")
    with pytest.raises(ArgumentError, match="python:MODULE:FUNCTION"):
        get_grader("python:justone")
    with pytest.raises(ScalingError, match=r"returned 'yes' .* return \(correct: bool"):
        grade(["1"], ["1"], grader=f"python:{user_module}:broken")
    with pytest.raises(ScalingError, match="KeyError: '1' .* fix the function"):
        grade(["1"], ["1"], grader=f"python:{user_module}:raises")


# -- the registry -----------------------------------------------------------------------------
def test_registry_names_and_descriptions():
    assert set(GRADERS) == {"math", "exact", "numeric", "python"}
    assert get_grader("numeric:1e-3").name == "numeric:0.001"
    assert get_grader("numeric").describe() == {"name": "numeric", "rel_tol": 1e-6}
    assert get_grader().describe()["library"].startswith("math-verify ")
    assert get_grader("math").pooled and not get_grader("exact").pooled
    for bad in ("sympy", "math:strict", "exact:1", "numeric:2", "numeric:x", 3):
        with pytest.raises(ArgumentError) as e:
            get_grader(bad)
        assert e.value.argument == "grader"


def test_unpooled_graders_run_off_the_main_thread():
    out = {}

    def run():
        out["g"] = grade(["0.5"] * 500, ["1/2"] * 500, grader="numeric", workers=2)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert all(g.correct for g in out["g"])
