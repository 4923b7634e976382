"""Answer extraction, math-verify equivalence, cluster keys and the grading pool's timeouts."""

import threading
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling import grading
from scaling.graders import get_grader
from scaling.grading import Grade, cluster_answers, extract_answer, grade, normalize_answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so $x = 2$ and the area is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
        ("first \\boxed{1}, then \\boxed{8}", "8"),
        ("\\boxed{1} ... so the count is 8.\n\nANSWER: 8", "8"),  # the later one wins
        ("ANSWER: $\\boxed{199}$", "199"),
        ("**ANSWER: 432**", "432"),
        ("\\[ \\text{ANSWER: } 730 \\]", "730"),
        ("\\[\n\\text{ANSWER: 11}\n\\]", "11"),
        ("The final answer is $\\boxed{5}$. I hope it is correct.", "5"),
        ("ANSWER: The final answer is 5. I hope it is correct.", "5"),
        ("The answer is: 3.5", "3.5"),
        ("So the Answer is: 220", "220"),
        ("The answer is 84.\n\nSo the Answer is 84.", "84"),
        ("ANSWER:\n\n42", "42"),
        ("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("\\boxed 7 is it", "7"),
        ("no final answer here", None),
        ("", None),
        (None, None),
        ("unbalanced \\boxed{3", None),
        # markdown bold ends the answer
        ("**ANSWER: 62** (as this is the sum of the roots)", "62"),
        ("**Answer:** 62", "62"),
        ("Answer: **62**", "62"),
        ("Answer: **62** because both roots are positive", "62"),
        ("**The final answer is 62** since m + n = 62", "62"),
        ("The answer is **62**.", "62"),
        ("**Final Answer**: 62", "62"),
        ("**Answer:** \\boxed{62} (as shown)", "62"),  # a box on the line is first choice
        ("**Answer:** $62$ (since n = 6)", "62"),
        ("ANSWER: $a = 2$ or $a = 10$", "$a = 2$ or $a = 10$"),  # more math follows: whole
        ("ANSWER: 2**10", "2**10"),  # not bold
    ],
)
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  $\\boxed{5}$. ", "5"),
        ("**5**", "5"),
        ("$$5$$", "5"),
        ("\\( 5 \\)", "5"),
        ("$5$ and $6$", "$5$ and $6$"),  # not one wrapper: left alone
        ("\\frac{1}{2}", "\\frac{1}{2}"),
        ("   ", None),
    ],
)
def test_normalize_answer(raw, expected):
    assert normalize_answer(raw) == expected


POOL = ["1/2", "0.5", "x+1", "1+x", "\\{1,2\\}", "2,1", "7", "0.333333", "1/3", None, "(0,1]"]

# What math-verify decides (reference, prediction, equal?) -- documented in scaling.grading.
EQUIVALENCES = [
    ("0.5", "1/2", True),  # fractions
    ("0.5", "\\frac{1}{2}", True),
    ("\\frac{1}{2}", "\\dfrac12", True),  # LaTeX variants
    ("\\frac{3}{4}", "0.75", True),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}", True),
    ("2\\sqrt{2}", "\\sqrt{8}", True),
    ("1\\frac{1}{10}", "1.1", True),  # mixed number
    ("5", "5 cm", True),  # units are dropped
    ("5", "5\\text{ cm}", True),
    ("90", "90^\\circ", True),
    ("18", "\\$18", True),
    ("7", "\\boxed{7}", True),  # \boxed
    ("50\\%", "0.5", True),  # percentages equal their fraction and their number
    ("50\\%", "50", True),
    ("10{,}000", "10000", True),  # thousands separators
    ("026", "26", True),  # leading zeros (AIME answers)
    ("5", "x = 5", True),  # an equation's right-hand side
    ("1/3", "0.333333", True),  # decimals equal at 6 places
    ("1/3", "0.333", False),
    ("(0,1]", "(0, 1]", True),  # intervals
    ("(0,1]", "(0,1)", False),
    ("[0,1]", "(0,1]", False),
    ("\\{1,2\\}", "\\{2,1\\}", True),  # sets
    ("(x+1)^2", "x^2+2x+1", True),  # symbolic
    ("\\pi", "3.14159", False),
    ("8", "9", False),
]


@pytest.mark.parametrize(("reference", "prediction", "equal"), EQUIVALENCES)
def test_equivalence(reference, prediction, equal):
    (g,) = grade([prediction], [reference], workers=0)
    assert g.correct is equal
    if equal:  # every correct answer takes the reference's key
        (ref,) = grade([reference], [reference], workers=0)
        assert g.cluster == ref.cluster


def test_equivalent_answers_share_one_cluster():
    answers = ["1/2", "0.5", "\\frac{1}{2}", "50\\%", "\\dfrac{2}{4}", "0.50"]
    keys = cluster_answers(answers)
    assert len(set(keys)) == 1 and keys[0] == "0.5"
    keys = cluster_answers(["(x+1)^2", "x^2+2x+1", "x^2+1", "\\{2,1\\}", "1,2", None])
    assert keys[0] == keys[1] != keys[2]
    assert keys[3] == keys[4] == "{1, 2}" and keys[5] is None


def test_grades_of_one_problem():
    preds = ["1/2", "0.5", "1/3", None, "0.333333", "hello world and more words"]
    graded = grade(preds, ["\\frac{1}{2}"] * len(preds), workers=0)
    assert [g.correct for g in graded] == [True, True, False, False, False, False]
    assert graded[0].cluster == graded[1].cluster == "0.5"
    assert graded[2].cluster == graded[4].cluster == "0.333333"  # same wrong value: one cluster
    assert graded[3] == Grade(None, None, False)
    assert graded[5].cluster == "hello world and more words"  # prose stays text
    assert graded[1].answer == "0.5"


def test_wrong_answer_never_joins_the_correct_cluster():
    # 333333/1000000 has 1/3's 6-decimal key, but verify compares two fractions exactly.
    preds = ["1/3", "333333/1000000", "\\frac{333333}{1000000}"]
    graded = grade(preds, ["1/3"] * 3, workers=0)
    assert [g.correct for g in graded] == [True, False, False]
    assert graded[0].cluster == "0.333333"
    assert graded[1].cluster == graded[2].cluster == "0.333333 (not the reference)"


def test_problems_are_kept_apart():
    graded = grade(["4", "4"], ["4", "5"], problem_ids=["a", "b"], workers=0)
    assert [g.correct for g in graded] == [True, False]


def test_pool_gives_the_same_grades(monkeypatch):
    preds = ["1/2", "0.5", "2", "\\frac{3}{4}", "0.75", None, "x=3", "(x+1)^2"] * 3
    refs = ["0.5", "0.5", "2", "0.75", "0.75", "1", "3", "x^2+2x+1"] * 3
    ids = [f"p{i % 8}" for i in range(len(preds))]
    inprocess = grade(preds, refs, problem_ids=ids, workers=0)
    monkeypatch.setattr(grading, "INPROCESS_MAX", 0)
    monkeypatch.setattr(grading, "CHUNK", 2)
    assert grade(preds, refs, problem_ids=ids, workers=2) == inprocess


def test_grading_off_the_main_thread_uses_the_pool():
    out = {}
    thread = threading.Thread(target=lambda: out.update(g=grade(["0.5"], ["1/2"])))
    thread.start()
    thread.join(60)
    assert out["g"][0].correct


def test_power_tower_does_not_hang_in_process():
    start = time.monotonic()
    (g,) = grade(["2^{2^{2^{30}}}"], ["5"], timeout=1, workers=0)
    assert not g.correct and time.monotonic() - start < 20


def hang_on_marked(items, seconds, grader):
    """A pool task that never returns when it meets the answer "hang" (an uninterruptible hang)."""
    if any("hang" in preds for _, preds in items):
        time.sleep(3600)
    return grading._grade_batch(items, seconds, grader)


def test_parent_deadline_turns_a_hung_answer_into_a_failed_grade(monkeypatch):
    monkeypatch.setattr(grading, "CHUNK", 2)
    groups = [("1", ("1", "hang", "2")), ("5", ("5",)), ("7", ("7", "8"))]
    done = []
    results = grading._run_pool(groups, 0.2, 2, done.append, get_grader("math"), hang_on_marked)
    (k1, c1, n1), (k2, c2, n2), (k3, c3, n3) = results[0]
    assert (k1, c1, n1) == ("1", True, None) and (k3, c3, n3) == ("2", False, None)
    assert (k2, c2) == ("hang", False) and "grading did not finish" in n2
    assert results[1:] == [[("5", True, None)], [("7", True, None), ("8", False, None)]]
    assert sum(done) == 6


@settings(max_examples=40, deadline=None)
@given(st.integers(-50, 50), st.integers(1, 40))
def test_forms_of_one_fraction_share_a_key(num, den):
    value = Fraction(num, den)
    forms = [f"{num}/{den}", f"\\frac{{{num}}}{{{den}}}", f"{value.numerator}/{value.denominator}"]
    if 10**6 % value.denominator == 0:  # a terminating decimal
        forms.append(f"{float(value):.6f}")
    keys = cluster_answers(forms, workers=0)
    assert len(set(keys)) == 1
    assert all(g.correct for g in grade(forms, [f"{num}/{den}"] * len(forms), workers=0))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=8))
def test_grades_do_not_depend_on_the_batch(answers):
    together = grade(answers, ["1/2"] * len(answers), workers=0)
    alone = [grade([a], ["1/2"], workers=0)[0] for a in answers]
    assert together == alone
