"""KIND ``sal``: the completions JSONL of huggingface/search-and-learn (one problem per line).

Each line holds the data set's fields (``problem``, ``answer``, ``unique_id``, ``level``, ...)
plus what search-and-learn adds: ``completions`` (n responses), ``scores`` (per response, the
PRM's score of each step), ``pred`` (the response it selected) and ``completion_tokens`` (per
response, or one total per problem for a tree search). Answers are extracted from the
completions (``\\boxed{}``) and graded with math-verify against ``answer``; ``scores`` become the
PRM ``step_rewards``. Pass ``--search beam_search`` (or ``dvts``) for a search's output: the
completions are then the search's final beams and a per-problem token total is recorded as the
problem's ``search_tokens``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scaling.errors import ScalingError
from scaling.importers.base import Imported, ImportOptions, need, prm_scored, read_jsonl


def read(source: Path, options: ImportOptions) -> Imported:
    problems, rows = [], []
    for lineno, r in read_jsonl(source):
        at = f"{source}, line {lineno}"
        pid = str(r.get("unique_id") or r.get("id") or f"line-{lineno}")
        completions = need(r, "completions", at, list)
        n = len(completions)
        scores = r.get("scores")
        if scores is not None and (not isinstance(scores, list) or len(scores) != n):
            raise ScalingError(f"{at}: field 'scores' must be a list of {n} (one per completion)")
        tokens = r.get("completion_tokens")
        per_sample = isinstance(tokens, list)
        if per_sample and len(tokens) != n:
            raise ScalingError(f"{at}: field 'completion_tokens' must hold {n} counts")
        level = r.get("level")
        problems.append(
            {
                "problem_id": pid,
                "question": r.get("problem"),
                "answer": str(need(r, "answer", at, (str, int, float))),
                "level": level if isinstance(level, int) else None,
                "search_tokens": tokens if isinstance(tokens, int) else None,
            }
        )
        for i, text in enumerate(completions):
            steps = scores[i] if scores is not None else None
            if steps is not None and not isinstance(steps, list):
                raise ScalingError(f"{at}: field 'scores' must hold one list per completion")
            rows.append(
                {
                    "problem_id": pid,
                    "sample_idx": i,
                    "text": text if isinstance(text, str) else None,
                    "reference": problems[-1]["answer"],
                    "step_rewards": [float(s) for s in steps] if steps is not None else None,
                    "completion_tokens": tokens[i] if per_sample else None,
                }
            )
    if not rows:
        raise ScalingError(f"{source}: no completions; pass a search-and-learn completions JSONL")
    problems = pd.DataFrame(problems)
    if problems["problem_id"].duplicated().any():
        raise ScalingError(f"{source}: a 'unique_id' repeats; one line per problem")
    totals = None
    if problems["search_tokens"].notna().all():
        totals = {"source": "measured", "assumption": "per-problem search totals only"}
    return prm_scored(source, options, problems, rows, "search-and-learn completions", totals)
