"""Answer extraction, equivalence and clustering with math-verify.

``extract_answer`` pulls the final answer out of a response (the last ``\\boxed{...}`` or a final
"answer is ..." / "ANSWER: ..."). ``grade`` compares answers with references through
``math_verify.parse`` and ``math_verify.verify`` and gives every answer a cluster key: equivalent
answers of one problem share one key, so majority voting counts "1/2", "0.5" and "\\frac{1}{2}"
together.

Cluster keys are canonical forms of the math-verify parse, computed from each answer alone (so
keys agree across batches, e.g. the chunks ``collect`` appends):

- numbers (integers, fractions, decimals, roots, percentages) become their decimal value rounded
  to 6 places, math-verify's own ``float_rounding``: "1/2", "0.5", "50\\%" -> ``0.5``;
- equations keep their right-hand side ("x = 5" -> ``5``), as math-verify does against a gold
  answer that is not an equation;
- expressions in variables become their value at a fixed point of those variables, so "(x+1)^2"
  and "x^2+2x+1" share ``f(x) = 3.837461`` (the equality ``verify`` finds by simplification);
- sets, intervals, tuples and matrices keep sympy's printed form (sets are sorted, so
  "\\{2,1\\}" and "1,2" share ``{1, 2}``);
- text that math-verify cannot parse, and prose of four or more words, keeps its normalized string;
- every answer ``verify`` accepts as correct takes the reference's key, so the correct answers of
  a problem form one cluster (a wrong answer whose key would equal it is marked apart).

What math-verify decides, documented by the tests: units and ``\\text`` are dropped ("5 cm" equals
"5"), a percentage equals both its fraction and its number ("50\\%" equals "0.5" and "50"),
"10{,}000" equals "10000", leading zeros are dropped ("026" equals "26"), and a decimal equals a
fraction when both round to the same 6 decimals ("0.333333" equals "1/3", "0.333" does not).

math-verify's timeouts use SIGALRM, which works only in a process's main thread. Large batches
therefore run in a process pool (each task runs in a worker's main thread, where the alarm
works), and the parent enforces a deadline per task as well: a task that hangs past it (C code
the alarm cannot interrupt) is killed, its answers are re-graded one by one, and an answer that
hangs alone is graded incorrect with a note. Small batches run in-process on the main thread.
"""

from __future__ import annotations

import hashlib
import logging
import math
import multiprocessing
import os
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from functools import lru_cache

from scaling.progress import progress_bar

INPROCESS_MAX = 400  # distinct answers up to which grading stays in-process (saves pool startup)
CHUNK = 32  # answers per pool task
_GRACE = 2.0  # seconds the parent adds to a task's deadline for scheduling and transfer
_DECIMALS = Decimal("1e-6")


@dataclass(frozen=True)
class Grade:
    """One graded answer: its normalized text, its cluster key and whether it is correct."""

    answer: str | None
    cluster: str | None
    correct: bool
    note: str | None = None


# -- extraction ---------------------------------------------------------------------------------
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_BOXED_BARE = re.compile(r"\\boxed +([^\s$]+)")
_ANSWER_IS = re.compile(r"(?i)\banswer\b[\s*}]*(?:\bis\b\s*:?|:)[\s*}:]*")
_SENTENCE_END = re.compile(r"\.(?:\s|$)")
_WRAPPERS = (("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)"), ("**", "**"))


def _braced(text: str, start: int) -> str | None:
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


def _last_boxed(text: str) -> tuple[int, str] | None:
    """Position and content of the last complete ``\\boxed{...}`` (or ``\\boxed 5``)."""
    found = None
    for m in _BOXED.finditer(text):
        content = _braced(text, m.end() - 1)
        if content is not None:
            found = (m.start(), content)
    for m in _BOXED_BARE.finditer(text):
        if found is None or m.start() > found[0]:
            found = (m.start(), m.group(1))
    return found


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
        inner = _braced(s, s.index("{"))
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


def extract_answer(text: str | None) -> str | None:
    """The final answer of a response: whichever comes last of the last ``\\boxed{...}`` and the
    last "answer is ..." / "ANSWER: ..." (its first sentence on that line). None if neither."""
    if not text:
        return None
    boxed = _last_boxed(text)
    phrase = None
    for m in _ANSWER_IS.finditer(text):
        phrase = m
    if phrase is not None and (boxed is None or phrase.start() > boxed[0]):
        rest = text[phrase.end() :].lstrip()
        line = rest.split("\n", 1)[0]
        inner = _last_boxed(line)
        if inner is not None:
            return normalize_answer(inner[1])
        return normalize_answer(_SENTENCE_END.split(line, 1)[0])
    return normalize_answer(boxed[1]) if boxed else None


# -- equivalence (runs in-process or in a pool worker's main thread) -----------------------------
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}")
PROSE_WORDS = 4  # an "answer" with this many words is prose: compared as text, not parsed


@lru_cache(maxsize=1 << 16)
def _parse(answer: str, seconds: int) -> tuple:
    """math-verify's parse of an answer given without delimiters (wrapped in ``\\boxed{}``).

    Prose ("The problem cannot be solved as stated") is not parsed: math-verify would read it as
    a product of letters, slowly; it stays text and matches only an identical reference."""
    from math_verify import parse

    if len(_WORD.findall(answer)) >= PROSE_WORDS:
        return ()
    return tuple(parse(f"\\boxed{{{answer}}}", parsing_timeout=seconds))


def _expr(parsed: tuple):
    from sympy import Basic, MatrixBase

    return next((x for x in parsed if isinstance(x, (Basic, MatrixBase))), None)


_HUGE = 1e6  # exponents / factorial arguments above this are not evaluated numerically
_BIG_FUNCS = ("factorial", "factorial2", "subfactorial", "gamma", "binomial", "RisingFactorial")


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
    """The cluster key of a parsed answer (its normalized text when math-verify found nothing)."""
    from math_verify.errors import TimeoutException
    from math_verify.grader import is_equation, take_last_relation
    from math_verify.utils import timeout

    expr = _expr(parsed)
    if expr is None:
        return text

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
        return text


def _verify(gold: tuple, pred: tuple, gold_text: str, pred_text: str, seconds: int) -> bool:
    from math_verify import verify

    if gold and pred:
        return verify(list(gold), list(pred), timeout_seconds=seconds)
    return gold_text == pred_text


def _timed(fn, *args):
    start = time.monotonic()
    return fn(*args), time.monotonic() - start


def _grade_group(
    gold: str | None, preds: tuple[str, ...], seconds: int
) -> list[tuple[str, bool, str | None]]:
    """(cluster key, correct, note) for each of one problem's distinct normalized answers."""
    logging.getLogger("math_verify").setLevel(logging.ERROR)  # timeouts are reported as notes
    gold_parsed = _parse(gold, seconds) if gold is not None else ()
    gold_key = _key(gold_parsed, gold, seconds) if gold is not None else None
    out = []
    for pred in preds:
        note = None
        parsed, took = _timed(_parse, pred, seconds)
        if not parsed and took >= seconds:
            note = "parsing timed out"
        key = _key(parsed, pred, seconds)
        correct = False
        if gold is not None:
            try:
                correct, took = _timed(_verify, gold_parsed, parsed, gold, pred, seconds)
            except Exception as e:  # math-verify catches its own errors; this is a last guard
                note = f"comparison failed: {type(e).__name__}"
            if not correct and took >= seconds:
                note = "comparison timed out"
        if correct:
            key = gold_key
        elif key == gold_key:
            key = f"{key} (not the reference)"
        out.append((key, bool(correct), note))
    return out


# -- scheduling -----------------------------------------------------------------------------------
Segment = tuple[int, int, str | None, tuple[str, ...]]  # (group, first answer, gold, answers)


def _grade_batch(
    items: tuple[tuple[str | None, tuple[str, ...]], ...], seconds: int
) -> list[list[tuple[str, bool, str | None]]]:
    """A pool task: ``_grade_group`` over several (gold, answers) items."""
    return [_grade_group(gold, preds, seconds) for gold, preds in items]


@dataclass(eq=False)
class _Task:
    """Answers of one or more groups, graded in one worker call."""

    segments: list[Segment]
    tries: int = 0

    @property
    def size(self) -> int:
        return sum(len(seg[3]) for seg in self.segments)


def _tasks(groups: list[tuple[str | None, tuple[str, ...]]]) -> list[_Task]:
    """Pack the groups' answers into tasks of about ``CHUNK`` answers (small groups together)."""
    tasks, current = [], _Task([])
    for gid, (gold, preds) in enumerate(groups):
        for start in range(0, len(preds), CHUNK):
            current.segments.append((gid, start, gold, preds[start : start + CHUNK]))
            if current.size >= CHUNK:
                tasks.append(current)
                current = _Task([])
    if current.segments:
        tasks.append(current)
    return tasks


_POOL: dict[int, ProcessPoolExecutor] = {}  # one warm pool per size, reused across calls


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool of ``workers`` processes, kept warm for later calls.

    On POSIX the workers fork from a server that has imported math-verify and the main module
    once (``forkserver``), so starting a pool is cheap and safe in a threaded parent."""
    if workers not in _POOL:
        if os.name == "posix":
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["__main__", "scaling.grading", "math_verify"])
        else:
            ctx = multiprocessing.get_context("spawn")
        _POOL[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    return _POOL[workers]


def _kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool whose worker hangs: terminate its processes, then shut it down."""
    for size, known in list(_POOL.items()):
        if known is pool:
            del _POOL[size]
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.kill()
    pool.shutdown(wait=True, cancel_futures=True)


def _run_pool(
    groups: list[tuple[str | None, tuple[str, ...]]],
    timeout: float,
    workers: int,
    advance,
    fn=_grade_batch,
) -> list[list[tuple[str | None, bool, str | None]]]:
    """Grade groups with ``fn`` in a process pool, in tasks of about ``CHUNK`` answers.

    Each worker has one task running and one queued. A task's deadline is twice ``timeout`` per
    answer plus two (each answer's parse, key and comparison are also bounded by ``timeout``
    inside the worker). When a task runs past it the pool is killed, the task is re-graded one
    answer per task, and an answer past its own deadline is graded incorrect with a note. After
    a worker crash each single answer is retried once.
    """
    seconds = max(1, math.ceil(timeout))
    results: list[list] = [[None] * len(preds) for _, preds in groups]
    pending = deque(_tasks(groups))

    def budget(task: _Task) -> float:  # twice one task's bound: it may queue behind another
        return 2 * timeout * (task.size + 2) + _GRACE

    def retry(task: _Task, crashed: bool) -> None:
        if task.size > 1:
            pending.extendleft(
                _Task([(gid, start + i, gold, (p,))])
                for gid, start, gold, preds in reversed(task.segments)
                for i, p in reversed(list(enumerate(preds)))
            )
        elif crashed and task.tries == 0:
            pending.appendleft(_Task(task.segments, 1))
        else:
            why = "crashed the grader" if crashed else f"did not finish in {budget(task):g} s"
            gid, start, _, preds = task.segments[0]
            results[gid][start] = (preds[0], False, f"grading {why}")
            advance(1)

    while pending:
        pool = _pool(workers)
        inflight: dict[Future, tuple[_Task, float]] = {}
        failed: list[tuple[_Task, bool]] = []
        while (pending or inflight) and not failed:
            while pending and len(inflight) < 2 * workers:
                task = pending.popleft()
                items = tuple((gold, preds) for _, _, gold, preds in task.segments)
                inflight[pool.submit(fn, items, seconds)] = (task, time.monotonic())
            due = min(start + budget(task) for task, start in inflight.values())
            done, _ = wait(inflight, max(0.0, due - time.monotonic()), FIRST_COMPLETED)
            for future in done:
                task, _ = inflight.pop(future)
                try:
                    graded = future.result()
                except BrokenProcessPool:
                    failed.append((task, True))
                    continue
                for (gid, start, _, preds), out in zip(task.segments, graded, strict=True):
                    results[gid][start : start + len(preds)] = out
                advance(task.size)
            now = time.monotonic()
            failed += [(t, False) for t, start in inflight.values() if now - start > budget(t)]
        if failed:
            for task, crashed in failed:
                retry(task, crashed)
            gone = {id(task) for task, _ in failed}
            pending.extendleft(t for t, _ in inflight.values() if id(t) not in gone)
            _kill(pool)
    return results


def _progress(total: int, enabled: bool):
    progress = progress_bar(
        "grading answers", "{task.fields[rate]}", disable=not enabled, transient=True
    )
    return progress, progress.add_task("grading", total=total, rate="")


def _grade_groups(
    groups: list[tuple[str | None, tuple[str, ...]]],
    timeout: float,
    workers: int | None,
    progress: bool,
) -> list[list[tuple[str | None, bool, str | None]]]:
    """Grade each (gold, distinct answers) group; in-process when small, else in a pool."""
    seconds = max(1, math.ceil(timeout))
    total = sum(len(preds) for _, preds in groups)
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    main = threading.current_thread() is threading.main_thread()
    inprocess = main and (n_workers <= 0 or total <= INPROCESS_MAX)
    bar, task_id = _progress(total, progress)
    started = time.monotonic()

    def advance(n: int) -> None:
        bar.advance(task_id, n)
        rate = bar.tasks[0].completed / max(time.monotonic() - started, 1e-9)
        bar.update(task_id, rate=f"{rate:,.0f} answers/s")

    with bar:
        if inprocess:
            out = []
            for gold, preds in groups:
                out.append(_grade_group(gold, preds, seconds))
                advance(len(preds))
            return out
        n_tasks = math.ceil(total / CHUNK)
        return _run_pool(groups, timeout, max(1, min(n_workers, n_tasks)), advance)


def _grade_keyed(
    predictions: Sequence[str | None],
    golds: Sequence[str | None],
    groups: Sequence[object],
    timeout: float,
    workers: int | None,
    progress: bool,
) -> list[Grade]:
    normalized = [normalize_answer(p) for p in predictions]
    index: dict[object, int] = {}
    members: list[tuple[str | None, dict[str, int]]] = []
    for group, gold, answer in zip(groups, golds, normalized, strict=True):
        g = index.setdefault(group, len(members))
        if g == len(members):
            members.append((gold, {}))
        if answer is not None:
            members[g][1].setdefault(answer, len(members[g][1]))
    graded = _grade_groups(
        [(gold, tuple(answers)) for gold, answers in members], timeout, workers, progress
    )
    out = []
    for group, answer in zip(groups, normalized, strict=True):
        if answer is None:
            out.append(Grade(None, None, False))
            continue
        g = index[group]
        key, correct, note = graded[g][members[g][1][answer]]
        out.append(Grade(answer, key, correct, note))
    return out


def grade(
    predictions: list[str | None],
    references: list[str | None],
    *,
    timeout: float = 5.0,
    workers: int | None = None,
    progress: bool = False,
    problem_ids: list[str] | None = None,
) -> list[Grade]:
    """Grade each prediction (an extracted answer; None = no answer) against its reference.

    Predictions are grouped by ``problem_ids`` (by reference when not given); within a group
    each distinct answer is parsed and compared once and the reference is parsed once. A None
    reference only clusters (every answer graded incorrect).
    ``timeout`` bounds each parse and comparison (seconds); ``workers`` is the pool size (default:
    all cores; 0 grades in-process); ``progress`` shows a progress bar.
    """
    if len(predictions) != len(references):
        raise ValueError("grade: predictions and references differ in length")
    groups = problem_ids if problem_ids is not None else references
    if len(groups) != len(predictions):
        raise ValueError("grade: problem_ids and predictions differ in length")
    keys = [(g, r) for g, r in zip(groups, references, strict=True)]
    return _grade_keyed(predictions, references, keys, timeout, workers, progress)


def cluster_answers(
    answers: list[str | None], *, timeout: float = 5.0, workers: int | None = None
) -> list[str | None]:
    """Cluster keys of one problem's answers (no reference): equivalent answers share a key."""
    n = len(answers)
    graded = _grade_keyed(answers, [None] * n, [0] * n, timeout, workers, False)
    return [g.cluster for g in graded]
