"""Fault injection: the store and every writer under races, SIGKILL, full and read-only file
systems, symbolic links and hostile input.

Each case asserts the exit status, the one-line error and that every byte that existed before is
intact (a hash of every file under the test's folder, hidden files included). Races and kills
run real processes (``python -m scaling``); a kill lands at a chosen point through a wrapper
that replaces one function with one that SIGKILLs its own process. A full file system is a
small tmpfs where this machine lets the test mount one, else a file-size limit (RLIMIT_FSIZE)
on the writing process; a read-only folder is a read-only bind mount (as root), else a folder
without write permission.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from in_process import cli

from scaling.errors import ScalingError
from scaling.importers import ImportOptions, import_run
from scaling.paths import data_dir
from scaling.store import Run

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
QWEN = data_dir() / "runs" / "qwen25-math-cot100"
TEMP = re.compile(r"^\..+\.[0-9a-f]{16}\.tmp$")


# -- helpers ---------------------------------------------------------------------------------------
def snapshot(root: Path) -> dict[str, str]:
    """Every file and link under ``root`` (hidden ones too): relative path -> sha256 / target."""
    out = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            out[key] = "-> " + os.readlink(path)
        elif path.is_file():
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_intact(before: dict[str, str], root: Path) -> None:
    after = snapshot(root)
    changed = {k for k, v in before.items() if after.get(k) != v}
    assert not changed, f"changed or lost: {sorted(changed)}"


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP.match(p.name))


def scaling(*args, limits: dict[int, int] | None = None, **kw) -> subprocess.CompletedProcess:
    """``python -m scaling ARGS`` in a new process, with optional resource limits."""

    def preexec() -> None:
        for which, value in (limits or {}).items():
            resource.setrlimit(which, (value, value))

    return subprocess.run(
        [sys.executable, "-m", "scaling", *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=180,
        preexec_fn=preexec if limits else None,
        **kw,
    )


def one_line(code: int, err: str, *parts: str) -> None:
    """Exit status 2 and one ``error:`` line (after any ``notice:`` lines), no traceback."""
    assert code == 2, err
    *notices, last = err.split("\n")[:-1] if err.endswith("\n") else [err, ""]
    assert last.startswith("error: ") and "Traceback" not in err, err
    assert all(line.startswith("notice: ") for line in notices), err
    for part in parts:
        assert part in last, err


def proc_line(proc: subprocess.CompletedProcess, *parts: str) -> None:
    one_line(proc.returncode, proc.stderr, *parts)


def write_jsonl(path: Path, n_problems: int = 6, per: int = 4, *, text: int = 0, model="m"):
    """A generic JSONL source: ``per`` samples of each problem, with a verdict (no grading of
    hard answers) and token counts; ``text`` random characters per response."""
    rng = __import__("random").Random(path.name)
    with open(path, "w") as fh:
        for p in range(n_problems):
            for i in range(per):
                row = {"problem_id": f"p{p}", "answer": str((p + i) % 3), "correct": i % 3 == 0}
                row.update(completion_tokens=10 + i, prompt_tokens=5, model=model)
                if text:
                    row["text"] = "".join(rng.choice("0123456789abcdef") for _ in range(text))
                fh.write(json.dumps(row) + "\n")
    return path


def make_run(tmp_path: Path, name: str = "base", **kw) -> Path:
    source = write_jsonl(tmp_path / f"{name}.jsonl", **kw)
    run, _ = import_run("jsonl", source, tmp_path / "runs" / name, ImportOptions(workers=0))
    return run.path


KILL = textwrap.dedent(
    """
    import importlib, os, signal, sys
    where, when = sys.argv[1], sys.argv[2]
    module, _, name = where.rpartition(":")
    owner = importlib.import_module(module)
    *path, attr = name.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, attr)
    def killing(*args, **kwargs):
        if when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(owner, attr, killing)
    from scaling.cli import main
    main(sys.argv[3:])
    """
)


def killed(target: str, when: str, *args) -> subprocess.CompletedProcess:
    """Run the CLI with ``target`` (``module:attr``) replaced by a SIGKILL ``when`` it is called
    (``before`` or ``after`` the original runs)."""
    return subprocess.run(
        [sys.executable, "-c", KILL, target, when, *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=180,
    )


# -- 1. races and locks ----------------------------------------------------------------------------
def test_two_imports_into_one_new_out_one_wins_one_fails(tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", model="A")
    b = write_jsonl(tmp_path / "b.jsonl", n_problems=5, model="B")
    for attempt in range(3):
        out = tmp_path / f"race{attempt}" / "R"
        args = ("import", "jsonl", "--out", out, "--workers", "0")
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "scaling", *map(str, args), str(source)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=ENV,
            )
            for source in (a, b)
        ]
        results = [(p.wait(timeout=180), p.stderr.read()) for p in procs]
        codes = sorted(code for code, _ in results)
        assert codes == [0, 2], results
        loser = next(err for code, err in results if code == 2)
        one_line(2, loser, str(out), "already exists")
        run = Run.open(out)
        n = {"A": 24, "B": 20}[run.name]
        assert run.verify()["samples"] == n  # one whole run, not a mix
        assert temps(out.parent) == [] and not (out / ".lock").exists()


def test_force_import_refused_while_a_writer_holds_the_run(tmp_path):
    base = make_run(tmp_path)
    before = snapshot(tmp_path / "runs")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from scaling.store import Run\n"
         "with Run.open(sys.argv[1]).lock():\n    print('locked', flush=True); sys.stdin.read()",
         str(base)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        other = write_jsonl(tmp_path / "other.jsonl", model="other")
        proc = scaling("import", "jsonl", other, "--out", base, "--force", "--workers", "0")
        proc_line(proc, str(base), "another process is writing this run")
        assert_intact(before, tmp_path / "runs")
    finally:
        holder.communicate("", timeout=60)
    assert not (base / ".lock").exists()  # released and removed by the holder
    proc = scaling("import", "jsonl", other, "--out", base, "--force", "--workers", "0")
    assert proc.returncode == 0, proc.stderr
    assert Run.open(base).name == "other" and temps(base.parent) == []


def test_lock_file_planted_as_a_symlink_is_refused_and_never_truncated(tmp_path, capsys):
    base = make_run(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious data")
    (base / ".lock").symlink_to(victim)
    before = snapshot(tmp_path)
    with pytest.raises(ScalingError, match="is a symbolic link, not a lock file"):
        Run.open(base).append_samples(
            pd.DataFrame({"problem_id": ["p0"], "sample_idx": [99], "correct": [True]})
        )
    other = write_jsonl(tmp_path / "other.jsonl")
    code, _, err = cli(capsys, "import", "jsonl", other, "--out", base, "--force",
                       "--workers", "0")  # fmt: skip
    one_line(code, err, str(base / ".lock"), "symbolic link")
    assert victim.read_text() == "precious data"
    assert_intact(before, tmp_path)


def test_symlinked_run_is_never_replaced(tmp_path, capsys):
    base = make_run(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(base)
    before = snapshot(tmp_path)
    other = write_jsonl(tmp_path / "other.jsonl")
    code, _, err = cli(capsys, "import", "jsonl", other, "--out", link, "--force",
                       "--workers", "0")  # fmt: skip
    one_line(code, err, str(link), "symbolic link")
    code, _, err = cli(capsys, "import", "jsonl", other, "--out", link, "--workers", "0")
    one_line(code, err, str(link), "already exists")
    assert_intact(before, tmp_path)
    assert link.is_symlink() and temps(tmp_path) == []


# -- 2. the 47-byte counts table and other hostile numbers -----------------------------------------
def test_counts_asking_for_3e9_samples_is_one_line_under_a_memory_limit(tmp_path):
    source = tmp_path / "big.csv"
    source.write_text("problem_idx,n_samples,n_correct\n1,3000000000,1\n")
    assert source.stat().st_size == 47
    proc = scaling("import", "counts", source, "--out", tmp_path / "r", "--model", "m",
                   "--tokens-per-sample", "5", limits={resource.RLIMIT_AS: 3 << 30})  # fmt: skip
    proc_line(proc, f"{source}, line 2: n_samples '3000000000'", "1,000,000")
    assert not (tmp_path / "r").exists() and temps(tmp_path) == []


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("1,2.7,1\n", "line 2: n_samples '2.7' must be an integer"),
        ("1,abc,1\n", "line 2: n_samples 'abc' must be an integer"),
        ("1,10,1\n2,10,-1\n", "line 3: n_correct '-1' must be an integer from 0"),
        ("1,0,0\n", "line 2: n_samples '0' must be an integer from 1"),
        ("1,5,6\n", "line 2: problem '1' has n_correct > n_samples"),
        ("1,5,1\n1,5,1\n", "line 3: problem '1' appears twice"),
        ("", "no rows"),
    ],
)
def test_counts_values_are_checked_with_their_line(tmp_path, capsys, rows, message):
    source = tmp_path / "t.csv"
    source.write_text("problem_idx,n_samples,n_correct\n" + rows)
    code, _, err = cli(capsys, "import", "counts", source, "--out", tmp_path / "r",
                       "--model", "m", "--tokens-per-sample", "5")  # fmt: skip
    one_line(code, err, str(source), message)
    assert not (tmp_path / "r").exists() and temps(tmp_path) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("completion_tokens", -5, "field 'completion_tokens' must be an integer from 0"),
        ("prompt_tokens", -1, "field 'prompt_tokens' must be an integer from 0"),
        ("completion_tokens", 5_000_000_000, "from 0 to 2,147,483,647, got 5000000000"),
        ("sample_idx", 2**31, "field 'sample_idx' must be an integer from 0"),
        ("reward", "NaN", "field 'reward' must be a finite number, got nan"),
        ("reward", "Infinity", "field 'reward' must be a finite number, got inf"),
        ("reward", "-Infinity", "field 'reward' must be a finite number, got -inf"),
        ("step_rewards", "[0.5, NaN]", "field 'step_rewards' must be a finite number"),
        ("level", 40000, "field 'level' must be an integer from 0 to 32,767"),
    ],
)
def test_jsonl_numbers_are_checked_with_file_and_line(tmp_path, capsys, field, value, message):
    good = '{"problem_id": 1, "answer": "1", "correct": true}'
    bad = f'{{"problem_id": 1, "answer": "2", "correct": false, "{field}": {value}}}'
    source = tmp_path / "s.jsonl"
    source.write_text(good + "\n" + bad + "\n")
    code, _, err = cli(capsys, "import", "jsonl", source, "--out", tmp_path / "r",
                       "--model", "m", "--workers", "0")  # fmt: skip
    one_line(code, err, f"{source}, line 2: ", message)
    assert ".tmp" not in err and not (tmp_path / "r").exists() and temps(tmp_path) == []


# -- 3. readers refuse what verify would reject ----------------------------------------------------
def copy_run(tmp_path: Path) -> Path:
    return Path(shutil.copytree(QWEN, tmp_path / "runs" / "qwen"))


READERS = [
    ("info",),
    ("simulate", "--strategy", "pass", "--bootstrap", "0"),
    ("fit", "--bootstrap", "0"),
    ("explore", "-o", "OUT/page.html"),
]


def assert_readers_refuse(capsys, tmp_path, run: Path, *parts: str) -> None:
    before = snapshot(tmp_path)
    for command, *rest in READERS:
        rest = [r.replace("OUT", str(tmp_path / "out")) for r in rest]
        code, _, err = cli(capsys, command, run, *rest)
        one_line(code, err, *parts)
    code, out, err = cli(capsys, "verify", run, "--format", "csv")
    one_line(code, err, *parts)
    assert "error" in out  # verify still reports its table
    assert_intact(before, tmp_path)
    assert not (tmp_path / "out").exists()


def test_a_copied_shard_is_refused_by_every_reader(tmp_path, capsys):
    run = copy_run(tmp_path)
    shutil.copy(run / "samples" / "part-00000.parquet", run / "samples" / "part-00001.parquet")
    assert_readers_refuse(capsys, tmp_path, run, "part-00001.parquet", "is stored twice")


def _rewrite_shard(run: Path, **columns) -> None:
    shard = run / "samples" / "part-00000.parquet"
    table = pq.read_table(shard)
    for name, values in columns.items():
        at = table.schema.get_field_index(name)
        table = table.set_column(at, table.schema.field(at), pa.array(values, table[name].type))
    pq.write_table(table, shard)


def test_negative_token_counts_written_by_another_tool_are_refused(tmp_path, capsys):
    run = copy_run(tmp_path)
    _rewrite_shard(run, completion_tokens=[-5] + [10] * 799)
    assert_readers_refuse(capsys, tmp_path, run, "completion_tokens", "negative count (-5)")


def test_nan_rewards_written_by_another_tool_are_refused(tmp_path, capsys):
    run = copy_run(tmp_path)
    rewards = pq.read_table(run / "samples" / "part-00000.parquet")["reward"].to_pylist()
    _rewrite_shard(run, reward=[float("nan")] + rewards[1:])
    before = snapshot(tmp_path)
    code, _, err = cli(capsys, "simulate", run, "--strategy", "best_of_n", "--bootstrap", "0")
    one_line(code, err, "column 'reward' holds NaN or an infinity")
    code, _, err = cli(capsys, "verify", run)
    one_line(code, err, "column 'reward' holds NaN or an infinity")
    assert_intact(before, tmp_path)


def test_an_empty_run_is_refused_by_every_reader(tmp_path, capsys):
    path = tmp_path / "runs" / "empty"
    manifest = json.loads((QWEN / "run.json").read_text())
    Run.create(path, manifest, pd.DataFrame({"problem_id": ["a", "b"]}))
    assert_readers_refuse(capsys, tmp_path, path, str(path), "holds no samples")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("sampling", "n", "eight"), "field 'sampling.n' must be an integer >= 0, got 'eight'"),
        (("model", "params", -1), "field 'model.params' must be a finite number > 0"),
        (("sampling", "top_p", 1.5), "field 'sampling.top_p'"),
        (("reward_model", "kind", "best"), "field 'reward_model.kind' must be orm, prm or null"),
        (("tokens", "mean_completion_tokens", -3), "tokens.mean_completion_tokens"),
    ],
)
def test_manifest_fields_are_typed_and_ranged(tmp_path, capsys, edit, message):
    run = copy_run(tmp_path)
    manifest = json.loads((run / "run.json").read_text())
    section, key, value = edit
    manifest[section][key] = value
    (run / "run.json").write_text(json.dumps(manifest))
    before = snapshot(tmp_path)
    for command in ("verify", "info", "simulate"):
        code, _, err = cli(capsys, command, run)
        one_line(code, err, str(run / "run.json"), message)
    assert_intact(before, tmp_path)


# -- 4. crashes: SIGKILL at several points ---------------------------------------------------------
@pytest.mark.parametrize(
    ("target", "when"),
    [
        ("scaling.store:RunDraft._write_group", "after"),  # streaming samples into the draft
        ("scaling.files:rename_noreplace", "before"),  # complete, not yet published
    ],
)
def test_sigkilled_import_leaves_no_run_and_its_leftovers_are_cleaned(tmp_path, capsys, target,
                                                                       when):  # fmt: skip
    base = make_run(tmp_path)
    before = snapshot(tmp_path / "runs")
    source = write_jsonl(tmp_path / "new.jsonl", n_problems=30, per=5)
    out = tmp_path / "runs" / "new"
    proc = killed(target, when, "import", "jsonl", source, "--out", out, "--workers", "0",
                  "--model", "k")  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not out.exists() and len(temps(out.parent)) == 1  # the crash's leftover
    assert_intact(before, tmp_path / "runs")
    code, text, err = cli(capsys, "info", tmp_path / "runs", "--format", "json")
    assert code == 0, err
    assert [r["run"] for r in json.loads(text)] == [str(base)]  # the leftover is not a run
    code, _, err = cli(capsys, "verify", tmp_path / "runs")
    assert code == 0, err
    code, _, err = cli(capsys, "import", "jsonl", source, "--out", out, "--workers", "0")
    assert code == 0, err
    assert temps(out.parent) == []  # cleaned by the next write beside it
    assert Run.open(out).verify()["samples"] == 150
    assert_intact(before, tmp_path / "runs")


@pytest.mark.parametrize("when", ["before", "after"])
def test_sigkilled_force_import_keeps_one_whole_run(tmp_path, capsys, when):
    base = make_run(tmp_path)
    old = snapshot(base)
    source = write_jsonl(tmp_path / "new.jsonl", n_problems=3, model="new")
    proc = killed("scaling.files:exchange", when, "import", "jsonl", source, "--out", base,
                  "--force", "--workers", "0")  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    run = Run.open(base)
    if when == "before":
        assert_intact(old, base)
    else:
        assert run.name == "new" and run.verify()["samples"] == 12
    assert len(temps(base.parent)) == 1  # the draft, or the old run swapped out
    code, _, err = cli(capsys, "verify", base.parent)
    assert code == 0, err
    make_run(tmp_path, "next")
    assert temps(base.parent) == []


APPEND = textwrap.dedent(
    """
    import os, signal, sys
    import pandas as pd
    from scaling.store import Run
    run = Run.open(sys.argv[1])
    real = os.replace
    def replace(src, dst):
        if str(dst).endswith("part-00001.parquet"):
            os.kill(os.getpid(), signal.SIGKILL)  # the shard is written, not yet renamed
        return real(src, dst)
    os.replace = replace
    rows = pd.DataFrame({"problem_id": ["p0"] * 3, "sample_idx": [10, 11, 12],
                         "correct": [True, False, True]})
    run.append_samples(rows)
    """
)


def test_sigkilled_append_keeps_the_run_whole_and_the_next_writer_cleans_up(tmp_path):
    base = make_run(tmp_path)
    before = snapshot(base)
    proc = subprocess.run(
        [sys.executable, "-c", APPEND, str(base)], capture_output=True, text=True, env=ENV
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(temps(base / "samples")) == 1 and (base / ".lock").exists()  # stale, unlocked
    assert_intact(before, base)
    run = Run.open(base)
    assert run.verify()["samples"] == 24
    run.append_samples(
        pd.DataFrame({"problem_id": ["p0"], "sample_idx": [10], "correct": [True]})
    )  # the dead writer's lock is free: taken, its temporary removed
    assert temps(base / "samples") == [] and not (base / ".lock").exists()
    assert Run.open(base).verify()["samples"] == 25


# -- 5. full and read-only file systems, bad output paths ------------------------------------------
def _mount(*args: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture(params=["tmpfs", "file-size limit"])
def full_fs(request, tmp_path):
    """(folder, process limits): a 1 MiB tmpfs, filled up by the test, where this machine lets
    the test mount one; else (and always for the second variant) a plain folder and a 256-byte
    file-size limit (RLIMIT_FSIZE) for the writing process."""
    folder = tmp_path / "fs"
    folder.mkdir()
    if request.param == "tmpfs" and _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)):
        try:
            yield folder, None
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False)
    else:
        yield folder, {resource.RLIMIT_FSIZE: 256}


def _fill(folder: Path) -> None:
    with contextlib.suppress(OSError), open(folder / "filler", "wb") as fh:
        while True:
            fh.write(b"\0" * 65536)
            fh.flush()


def test_full_file_system(tmp_path, full_fs):
    folder, limits = full_fs
    shutil.copytree(QWEN, folder / "old")
    subprocess.run([sys.executable, "-m", "scaling", "info", QWEN, "--format", "parquet",
                    "--output", folder / "info.parquet"], check=True, env=ENV)  # fmt: skip
    if limits is None:
        _fill(folder)
    before = snapshot(folder)
    source = write_jsonl(tmp_path / "big.jsonl", n_problems=20, per=10, text=2000)
    proc = scaling("import", "jsonl", source, "--out", folder / "new", "--text", "--workers",
                   "0", limits=limits)  # fmt: skip
    proc_line(proc, str(folder / "new"))
    assert re.search(r"No space left on device|File too large", proc.stderr)
    assert not (folder / "new").exists() and temps(folder) == []
    for fmt in ("parquet", "csv"):
        proc = scaling("info", QWEN, "--format", fmt, "--output", folder / "info.parquet",
                       limits=limits)  # fmt: skip
        proc_line(proc, str(folder / "info.parquet"))
    assert_intact(before, folder)
    assert pq.read_table(folder / "info.parquet").num_rows == 1 and temps(folder) == []


@pytest.fixture(params=["real", "injected"])
def read_only(request, tmp_path, monkeypatch):
    """A folder holding ``x.csv`` and a run that cannot be written to: without write
    permission (not root), a read-only bind mount (root), else (and always for the second
    variant) writes there fail with an injected EROFS where the toolkit creates files."""
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "x.csv").write_text("a,b\n1,2\n")
    shutil.copytree(QWEN, folder / "run")
    view = tmp_path / "ro-view"
    view.mkdir()
    if request.param == "real" and os.geteuid() != 0:
        os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR)
        yield folder
        os.chmod(folder, stat.S_IRWXU)
    elif request.param == "real" and _mount("--bind", str(folder), str(view)):
        try:
            assert _mount("-o", "remount,ro,bind", str(view))
            yield view
        finally:
            subprocess.run(["umount", "-l", str(view)], check=False)
    else:
        from scaling import files

        def refuse(target, *args):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(target))

        monkeypatch.setattr(files, "new_temp_folder", refuse)
        monkeypatch.setattr(files, "_new_temp_file", refuse)
        yield folder


def test_read_only_folder(tmp_path, capsys, read_only):
    before = snapshot(read_only)
    source = write_jsonl(tmp_path / "s.jsonl")
    cases = [
        ("import", "jsonl", source, "--out", read_only / "new", "--workers", "0"),
        ("import", "jsonl", source, "--out", read_only / "run", "--force", "--workers", "0"),
        ("info", QWEN, "--format", "csv", "--output", read_only / "x.csv"),
        ("simulate", QWEN, "--strategy", "pass", "--format", "json", "--output",
         read_only / "x.csv"),
        ("info", QWEN, "--format", "parquet", "--output", read_only / "x.csv"),
    ]  # fmt: skip
    for args in cases:
        code, _, err = cli(capsys, *args)
        one_line(code, err)
        assert re.search(r"Read-only file system|Permission denied", err), err
    assert_intact(before, read_only)


def test_output_paths(tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    code, _, err = cli(capsys, "info", QWEN, "--format", "csv", "--output", folder)
    one_line(code, err, str(folder), "is a folder")
    for fmt in ("csv", "json", "parquet"):  # missing folders are created, whatever the format
        target = tmp_path / "new" / fmt / f"info.{fmt}"
        code, _, err = cli(capsys, "info", QWEN, "--format", fmt, "--output", target)
        assert code == 0 and target.stat().st_size > 0, err
    (tmp_path / "file").write_text("x")
    code, _, err = cli(capsys, "info", QWEN, "--format", "csv", "--output",
                       tmp_path / "file" / "x.csv")  # fmt: skip
    one_line(code, err, str(tmp_path / "file"), "a file is in the way")
    assert temps(folder) == [] and (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_written_files_follow_the_umask(tmp_path, capsys, mask):
    old = os.umask(mask)
    try:
        make_run(tmp_path)
        for fmt in ("csv", "parquet"):
            code, _, err = cli(capsys, "info", QWEN, "--format", fmt, "--output",
                               tmp_path / f"info.{fmt}")  # fmt: skip
            assert code == 0, err
    finally:
        os.umask(old)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.endswith("jsonl")]
    assert len(written) >= 5
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path
    for path in [p for p in (tmp_path / "runs").rglob("*") if p.is_dir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o777 & ~mask, path


# -- 6. the explorer's inlined data, in a real browser ---------------------------------------------
PAYLOADS = [
    "<!--<script>",
    "</script><script>window.pwned = 1</script>",
    "<script>window.pwned = 2</script>",
    "<img src=x onerror='window.pwned = 3'>",
    "]]><!-- & \u2028 \\u003c",
]


def _swap(text: str, names: dict[str, str]) -> str:
    for name, payload in names.items():
        text = text.replace(name, payload)
    return text


def test_explorer_payloads_neither_break_the_page_nor_run(tmp_path):
    from test_explorer import MODELS, synthetic_frames

    from scaling.browser import Browser
    from scaling.explorer import write_explorer

    frames = synthetic_frames()
    names = list(MODELS["toy-math"])[: len(PAYLOADS)] + list(MODELS["toy-aime"])
    swap = dict(zip(names, PAYLOADS, strict=False))
    for key in ("points", "frontier", "curves"):
        frame = frames[key].copy()
        for column in ("model", "run", "runner_up", "runner_up_run", "ceiling_run"):
            if column in frame:
                frame[column] = [_swap(str(v), swap) for v in frame[column]]
        frames[key] = frame
    page_path = write_explorer(tmp_path / "page.html", **frames)
    html = page_path.read_text()
    body = html.split("<script id='explorer-data' type='application/json'>")[1]
    assert "<" not in body.split("</script>")[0]  # not one raw '<' in the inlined JSON
    with Browser(width=1200, height=900) as browser:
        page = browser.open(page_path.resolve().as_uri(), ready="window.explorer?.ready")
        assert page.errors == []
        assert page.evaluate("typeof window.pwned") == "undefined"
        data = page.evaluate("JSON.parse(document.getElementById('explorer-data').textContent)")
        assert page.evaluate("document.querySelectorAll('script').length") == 3
    text = json.dumps(data)
    for payload in PAYLOADS:
        assert json.dumps(payload)[1:-1] in text
