"""Answer extraction, and grading with a grader (``scaling.graders``; math-verify by default).

``extract_answer`` pulls the final answer out of a response (the last ``\\boxed{...}`` or a final
"answer is ..." / "ANSWER: ..."). ``grade`` normalizes each answer (``normalize_answer``),
groups them by problem and hands each problem's distinct answers, with its reference, to the
grader, which decides which are correct and gives each a cluster key: equivalent answers of one
problem share one key, so majority voting counts "1/2", "0.5" and "\\frac{1}{2}" together. See
``scaling.graders`` for the graders (``math``, ``exact``, ``numeric``, ``python:MODULE:FUNCTION``)
and ``scaling.graders.symbolic`` for what the default ``math`` grader decides.

math-verify's timeouts use SIGALRM, which works only in a process's main thread. Large batches
for a pooled grader (``math``) therefore run in a process pool (each task runs in a worker's
main thread, where the alarm works), and the parent enforces a deadline per task as well: a task
that hangs past it (C code the alarm cannot interrupt) is killed, its answers are re-graded one
by one, and an answer that hangs alone is graded incorrect with a note. Small batches, and
graders that need no pool, run in-process.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from scaling.graders import DEFAULT, Grader, get_grader
from scaling.graders.base import braced, normalize_answer
from scaling.progress import progress_bar
from scaling.workers import kill
from scaling.workers import pool as workers_pool

INPROCESS_MAX = 400  # distinct answers up to which grading stays in-process (saves pool startup)
CHUNK = 32  # answers per pool task
_GRACE = 2.0  # seconds the parent adds to a task's deadline for scheduling and transfer
PRELOAD = ("scaling.grading", "scaling.graders.symbolic", "math_verify")  # once, in the server


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
_SET_OFF = (("**", "**"), ("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))


def _last_boxed(text: str) -> tuple[int, str] | None:
    """Position and content of the last complete ``\\boxed{...}`` (or ``\\boxed 5``)."""
    found = None
    for m in _BOXED.finditer(text):
        content = braced(text, m.end() - 1)
        if content is not None:
            found = (m.start(), content)
    for m in _BOXED_BARE.finditer(text):
        if found is None or m.start() > found[0]:
            found = (m.start(), m.group(1))
    return found


def extract_answer(text: str | None) -> str | None:
    """The final answer of a response: whichever comes last of the last ``\\boxed{...}`` and the
    last "answer is ..." / "ANSWER: ..." (a ``\\boxed{}`` on that line, else its first sentence).

    Markdown bold ends the answer: when the phrase opens inside bold ("**ANSWER: 62** (as ...)")
    the answer stops at the closing "**"; an answer set off in bold or math delimiters ("Answer:
    **62** because ...", "ANSWER: $62$ (since ...)") stops at its closing delimiter, unless more
    math follows ("$a = 2$ or $a = 10$" is kept whole). None if there is neither a box nor a
    phrase."""
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
        line_start = text.rfind("\n", 0, phrase.start()) + 1
        if text.count("**", line_start, phrase.end()) % 2:  # bold opened before the answer
            line = line.split("**", 1)[0]
        for left, right in _SET_OFF:  # the answer set off in bold or math: up to its close,
            end = line.find(right, len(left)) if line.startswith(left) else -1
            after = line[end + len(right) :]  # unless more math follows ("$a = 2$ or $a = 3$")
            if end > len(left) and (left == "**" or left not in after):
                return normalize_answer(line[: end + len(right)])
        return normalize_answer(_SENTENCE_END.split(line, 1)[0])
    return normalize_answer(boxed[1]) if boxed else None


# -- scheduling -----------------------------------------------------------------------------------
Segment = tuple[int, int, str | None, tuple[str, ...]]  # (group, first answer, gold, answers)


def _grade_batch(
    items: tuple[tuple[str | None, tuple[str, ...]], ...], seconds: int, grader: Grader
) -> list[list[tuple[str | None, bool, str | None]]]:
    """A pool task: ``grader.grade_group`` over several (gold, answers) items."""
    return [grader.grade_group(gold, preds, seconds) for gold, preds in items]


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


def _run_pool(
    groups: list[tuple[str | None, tuple[str, ...]]],
    timeout: float,
    workers: int,
    advance,
    grader: Grader,
    fn=_grade_batch,
) -> list[list[tuple[str | None, bool, str | None]]]:
    """Grade groups with ``fn(items, seconds, grader)`` in a process pool, in tasks of about
    ``CHUNK`` answers.

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
        pool = workers_pool(workers, PRELOAD)
        inflight: dict[Future, tuple[_Task, float]] = {}
        failed: list[tuple[_Task, bool]] = []
        while (pending or inflight) and not failed:
            while pending and len(inflight) < 2 * workers:
                task = pending.popleft()
                items = tuple((gold, preds) for _, _, gold, preds in task.segments)
                inflight[pool.submit(fn, items, seconds, grader)] = (task, time.monotonic())
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
            kill(pool)
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
    grader: Grader,
) -> list[list[tuple[str | None, bool, str | None]]]:
    """Grade each (gold, distinct answers) group; in-process when small or when the grader
    needs no pool, else in a pool."""
    seconds = max(1, math.ceil(timeout))
    total = sum(len(preds) for _, preds in groups)
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    main = threading.current_thread() is threading.main_thread()
    inprocess = not grader.pooled or (main and (n_workers <= 0 or total <= INPROCESS_MAX))
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
                out.append(grader.grade_group(gold, preds, seconds))
                advance(len(preds))
            return out
        n_tasks = math.ceil(total / CHUNK)
        return _run_pool(groups, timeout, max(1, min(n_workers, n_tasks)), advance, grader)


def _grade_keyed(
    predictions: Sequence[str | None],
    golds: Sequence[str | None],
    groups: Sequence[object],
    timeout: float,
    workers: int | None,
    progress: bool,
    grader: Grader,
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
        [(gold, tuple(answers)) for gold, answers in members], timeout, workers, progress, grader
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
    grader: str | Grader = DEFAULT,
) -> list[Grade]:
    """Grade each prediction (an extracted answer; None = no answer) against its reference.

    Predictions are grouped by ``problem_ids`` (by reference when not given); within a group
    each distinct answer is graded once. A None reference only clusters (every answer graded
    incorrect). ``grader``: "math" (math-verify), "exact", "numeric[:TOL]" or
    "python:MODULE:FUNCTION" (see ``scaling.graders``). ``timeout`` bounds each parse and
    comparison (seconds); ``workers`` is the pool size (default: all cores; 0 grades
    in-process); ``progress`` shows a progress bar.
    """
    checked = get_grader(grader)
    if len(predictions) != len(references):
        raise ValueError("grade: predictions and references differ in length")
    groups = problem_ids if problem_ids is not None else references
    if len(groups) != len(predictions):
        raise ValueError("grade: problem_ids and predictions differ in length")
    keys = [(g, r) for g, r in zip(groups, references, strict=True)]
    return _grade_keyed(predictions, references, keys, timeout, workers, progress, checked)


def cluster_answers(
    answers: list[str | None],
    *,
    timeout: float = 5.0,
    workers: int | None = None,
    grader: str | Grader = DEFAULT,
) -> list[str | None]:
    """Cluster keys of one problem's answers (no reference): equivalent answers share a key."""
    n = len(answers)
    checked = get_grader(grader)
    graded = _grade_keyed(answers, [None] * n, [0] * n, timeout, workers, False, checked)
    return [g.cluster for g in graded]
