"""The README's "Your own samples → frontier" walkthrough, run as written (so it cannot drift)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEADING = "## Your own samples → frontier"


def walkthrough() -> str:
    """The first bash block under the walkthrough's heading, verbatim."""
    readme = (REPO / "README.md").read_text()
    assert HEADING in readme
    section = readme.split(HEADING, 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.DOTALL).group(1)


def test_the_readme_walkthrough_runs_as_written(tmp_path):
    script = walkthrough()
    assert "--field problem_id=problem" in script and "scaling runs set" in script
    assert "scaling fit" in script
    for name in re.findall(r"tests/fixtures/\S+", script):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, target)
    bin_dir = tmp_path / "bin"  # `scaling` is this checkout's, whatever is installed
    bin_dir.mkdir()
    (bin_dir / "scaling").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m scaling "$@"\n')
    (bin_dir / "scaling").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "COLUMNS": "80",
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    text = " ".join(out.split())
    assert "imported 160 samples of 20 problems into runs/acme-1b" in text
    assert "skipped 160 lines of other models" in text
    assert "problem set named '20 problems ed5b8f51'" in text  # as the README says
    assert "model size unknown ('acme-8b')" in text and "--params N" in text
    assert "model.params: unknown -> 8e+09" in text
    small, large = (
        json.loads((tmp_path / f"runs/{m}/run.json").read_text()) for m in ("acme-1b", "acme-8b")
    )
    assert small["model"]["params"] == 1.2e9 and large["model"]["params"] == 8e9
    assert small["problem_set"] == large["problem_set"] == "20 problems ed5b8f51"
    assert small["tokens"]["source"] == large["tokens"]["source"] == "measured"
    assert small["grading"]["name"] == "math" and small["run_id"] != large["run_id"]
    assert small["provenance"]["fields"]["completion_tokens"] == "usage.output_tokens"
    assert "20 problems · cost paper (FLOPs per problem)" in out
    assert re.search(r"acme-1b (maj|es-maj)", out) and re.search(r"acme-8b (maj|es-maj)", out)
    assert "budgets in samples" not in text and "Traceback" not in done.stderr
