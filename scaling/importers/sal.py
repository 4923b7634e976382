"""The completions JSONL of huggingface/search-and-learn (one problem per line), PRM-scored.

Each line holds the data set's fields (problem, answer, unique_id, level, ...) plus what
search-and-learn adds: completions (n responses), scores (per response, the PRM's score of each
step), pred (the response it selected) and completion_tokens (per response, or one total per
problem for a tree search). Answers are extracted from the completions (\\boxed{}) and graded
by --grader (math, the default: math-verify) against answer; scores become the PRM step
rewards. Pass --search beam_search (or dvts) for a search's output: the completions are then
the search's final beams and a per-problem token total is recorded as the problem's
search_tokens. The problem set is named by --problem-set, else by the fingerprint of its
problem ids and answers.
"""

from __future__ import annotations

from pathlib import Path

from scaling.errors import ScalingError
from scaling.importers.base import (
    GRADING,
    INT16_MAX,
    ImportOptions,
    PrmSamples,
    Sink,
    count,
    finite_list,
    need,
    read_jsonl,
    reference,
)

OPTIONS = GRADING + ("reward_model", "reward_params", "search")


def read(source: Path, options: ImportOptions, out: Sink):
    samples = PrmSamples(source, options, out)
    totals = True  # every problem has a search token total
    for lineno, r in read_jsonl(source):
        at = f"{source}, line {lineno}"
        pid = str(r.get("unique_id") or r.get("id") or f"line-{lineno}")
        if out.has_problem(pid):
            raise ScalingError(f"{at}: 'unique_id' {pid!r} repeats; one line per problem")
        completions = need(r, "completions", at, list)
        n = len(completions)
        scores = r.get("scores")
        if scores is not None and (not isinstance(scores, list) or len(scores) != n):
            raise ScalingError(f"{at}: field 'scores' must be a list of {n} (one per completion)")
        tokens = r.get("completion_tokens")
        per_sample = isinstance(tokens, list)
        if per_sample and len(tokens) != n:
            raise ScalingError(f"{at}: field 'completion_tokens' must hold {n} counts")
        total = None if per_sample else count(tokens, at, "completion_tokens")
        totals &= total is not None
        level = r.get("level")
        ref = reference(need(r, "answer", at, (str, int, float)), at, "answer")
        out.problem(
            pid,
            question=r.get("problem"),
            answer=ref,
            level=count(level, at, "level", maximum=INT16_MAX)
            if isinstance(level, int) and not isinstance(level, bool)
            else None,
            search_tokens=total,
        )
        for i, text in enumerate(completions):
            steps = scores[i] if scores is not None else None
            if steps is not None and not isinstance(steps, list):
                raise ScalingError(f"{at}: field 'scores' must hold one list per completion")
            samples.add(
                pid,
                i,
                text if isinstance(text, str) else None,
                ref,
                finite_list(steps, at, "scores"),
                count(tokens[i], at, "completion_tokens") if per_sample else None,
            )
    fallback = None
    if totals and out.n_problems:
        fallback = {"source": "measured", "assumption": "per-problem search totals only"}
    return samples.describe("search-and-learn completions", fallback)
