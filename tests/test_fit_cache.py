"""The cache of fitted laws: a fit read back is the fit a fresh solve gives, to the bit; its key
moves with everything the fit depends on; a damaged or unwritable cache costs a solve, never an
answer."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from in_process import cli

import scaling.fitting as fitting
from fit import CURVE_FAMILIES, Dataset, LawFit, fit_laws, restore_law
from scaling.fit_cache import FitCache, default_folder, law_key
from scaling.fitting import fit_families
from scaling.paths import data_dir

X = 2.0 ** np.arange(8)
SETTINGS = {"loss": "huber", "delta": 1e-3, "space": "log"}


def curve(seed: int, boot: int = 40) -> Dataset:
    """A saturating error curve of 60 problems, with standard errors and a bootstrap."""
    rng = np.random.default_rng(seed)
    v = (0.1 + 0.8 * X**-0.4) * (1 + 0.5 * rng.uniform(-1, 1, (60, 1)))
    reps = v[rng.integers(0, 60, (boot, 60))].mean(axis=1)
    return Dataset(X, v.mean(axis=0), v.std(axis=0, ddof=1) / np.sqrt(60), reps)


def same(a: LawFit, b: LawFit) -> bool:
    """The two fits' numbers are equal, bit for bit (NaN where NaN)."""
    pairs = [
        (a.params, b.params),
        (a.boot_params, b.boot_params),
        (a.ci, b.ci),
        (a.se, b.se),
        (a.residuals, b.residuals),
        (a.z, b.z),
    ]
    return all(np.array_equal(np.asarray(p), np.asarray(q), equal_nan=True) for p, q in pairs) and (
        a.aic,
        a.bic,
        a.n_boot,
        a.settings,
    ) == (b.aic, b.bic, b.n_boot, b.settings)


def test_a_fit_read_back_is_the_fresh_fit_to_the_bit(tmp_path):
    data = [curve(s) for s in range(4)]
    fits = fit_laws("saturating", data, **SETTINGS)
    cache = FitCache(tmp_path)
    for d, f in zip(data, fits, strict=True):
        key = law_key("saturating", d, SETTINGS)
        assert cache.load(key, "saturating", d, SETTINGS, 0.95) is None
        cache.save(key, f)
        assert same(cache.load(key, "saturating", d, SETTINGS, 0.95), f)
    # another level: the intervals are taken anew from the same refits
    again = cache.load(
        law_key("saturating", data[0], SETTINGS), "saturating", data[0], SETTINGS, 0.8
    )
    assert same(again, fit_laws("saturating", data[:1], **SETTINGS, level=0.8)[0])


@pytest.mark.parametrize("name", sorted(CURVE_FAMILIES))
def test_each_fit_is_the_same_alone_or_batched(name):
    """What makes a per-curve cache exact: rows of a batched solve do not interact, so a curve
    fitted alone (its fit kept, the others not) is the curve fitted beside any others."""
    data = [curve(s) for s in range(5)]
    batched = fit_laws(name, data, **SETTINGS)
    for i in (0, 3):
        assert same(fit_laws(name, [data[i]], **SETTINGS)[0], batched[i])
    refits = fit_laws(name, data, **SETTINGS, point=batched)
    alone = fit_laws(name, data[2:3], **SETTINGS, point=batched[2:3])[0]
    assert same(alone, refits[2])


def test_the_key_moves_with_everything_the_fit_depends_on():
    d = curve(0)
    base = law_key("saturating", d, SETTINGS)
    assert base == law_key(
        "saturating", Dataset(X.copy(), d.y.copy(), d.sigma, d.replicates), SETTINGS
    )
    nudged = d.y.copy()
    nudged[3] = np.nextafter(nudged[3], 1.0)
    reps = d.replicates.copy()
    reps[-1, -1] += 1e-12
    others = [
        law_key("power", d, SETTINGS),
        law_key("saturating", d, {**SETTINGS, "delta": 2e-3}),
        law_key("saturating", d, {**SETTINGS, "loss": "l2"}),
        law_key("saturating", Dataset(X * 2, d.y, d.sigma, d.replicates), SETTINGS),
        law_key("saturating", Dataset(X, nudged, d.sigma, d.replicates), SETTINGS),
        law_key("saturating", Dataset(X, d.y, None, d.replicates), SETTINGS),
        law_key("saturating", Dataset(X, d.y, d.sigma, reps), SETTINGS),
        law_key("saturating", Dataset(X, d.y, d.sigma, d.replicates[:-1]), SETTINGS),
        law_key("saturating", Dataset(X, d.y, d.sigma), SETTINGS),
        law_key("saturating", d, SETTINGS, point=np.array([0.1, -0.2, 0.4])),
    ]
    assert len({base, *others}) == len(others) + 1


def test_a_damaged_entry_is_solved_again_and_replaced(tmp_path):
    data = [curve(s) for s in range(3)]
    cache = FitCache(tmp_path)
    first = fit_families({"saturating": data}, 1e-3, cache=cache)["saturating"]
    keys = [law_key("saturating", d, SETTINGS) for d in data]
    assert all(cache.path(k).is_file() for k in keys)
    cache.path(keys[0]).write_bytes(b"not an array")
    cache.path(keys[1]).write_bytes(cache.path(keys[1]).read_bytes()[:-40])  # truncated
    cache.path(keys[2]).write_bytes(np.zeros(5).tobytes())  # a vector of the wrong length
    for k, d in zip(keys, data, strict=True):
        assert cache.load(k, "saturating", d, SETTINGS, 0.95) is None
    again = fit_families({"saturating": data}, 1e-3, cache=cache)["saturating"]
    assert all(same(a, b) for a, b in zip(first, again, strict=True))
    assert all(same(cache.load(k, "saturating", d, SETTINGS, 0.95), f)
               for k, d, f in zip(keys, data, first, strict=True))  # fmt: skip


def test_an_entry_of_the_right_length_with_a_changed_byte_is_not_read(tmp_path):
    """Every byte is checked against the entry's digest: a bit flipped on disk, or a file zeroed
    by a crash, costs a solve, never a wrong number."""
    d = curve(0)
    cache = FitCache(tmp_path)
    key = law_key("saturating", d, SETTINGS)
    cache.save(key, fit_laws("saturating", [d], **SETTINGS)[0])
    kept = bytearray(cache.path(key).read_bytes())
    for at in (0, len(kept) // 2, len(kept) - 1):  # an estimate, a refit, the digest
        flipped = kept.copy()
        flipped[at] ^= 0x01
        cache.path(key).write_bytes(bytes(flipped))
        assert cache.load(key, "saturating", d, SETTINGS, 0.95) is None
    cache.path(key).write_bytes(bytes(len(kept)))
    assert cache.load(key, "saturating", d, SETTINGS, 0.95) is None


def test_only_the_fits_not_kept_are_solved(tmp_path, monkeypatch):
    data = [curve(s) for s in range(4)]
    cache = FitCache(tmp_path)
    fit_families({"saturating": data[:2]}, 1e-3, cache=cache)
    solved = []

    def counting(family, datasets, **options):
        solved.append(len(datasets))
        return fit_laws(family, datasets, **options)

    monkeypatch.setattr(fitting, "fit_laws", counting)
    fits = fit_families({"saturating": data}, 1e-3, cache=cache)["saturating"]
    assert solved == [2]  # the two new curves, in one batch
    assert all(
        same(f, g) for f, g in zip(fits, fit_laws("saturating", data, **SETTINGS), strict=True)
    )
    fit_families({"saturating": data}, 1e-3, cache=cache)
    assert solved == [2]  # nothing left to solve


def test_an_unwritable_cache_costs_a_note_not_the_fit(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache's folder should be")
    notes: list[str] = []
    data = [curve(s) for s in range(2)]
    fits = fit_families({"saturating": data}, 1e-3, cache=FitCache(blocker / "fits"), notes=notes)
    assert all(
        same(f, g)
        for f, g in zip(fits["saturating"], fit_laws("saturating", data, **SETTINGS), strict=True)
    )
    assert len(notes) == 1 and notes[0].startswith("fit cache: ") and "fits not kept" in notes[0]
    assert "\n" not in notes[0]


def test_entries_get_the_users_umask(tmp_path):
    old = os.umask(0o027)
    try:
        cache = FitCache(tmp_path / "fits")
        d = curve(0)
        key = law_key("saturating", d, SETTINGS)
        cache.save(key, fit_laws("saturating", [d], **SETTINGS)[0])
    finally:
        os.umask(old)
    assert stat.S_IMODE(cache.path(key).stat().st_mode) == 0o640
    assert [p.name for p in cache.path(key).parent.iterdir()] == [cache.path(key).name]  # no temp


def test_restore_refuses_arrays_of_another_shape():
    d = curve(0)
    arrays = fit_laws("saturating", [d], **SETTINGS)[0].arrays()
    with pytest.raises(ValueError, match="boot"):
        restore_law("saturating", Dataset(X, d.y, d.sigma, d.replicates[:-1]), arrays, **SETTINGS)
    with pytest.raises(ValueError, match="params"):
        restore_law("power", d, arrays, **SETTINGS)


def test_the_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path / "mine"))
    assert default_folder() == tmp_path / "mine"
    monkeypatch.delenv("SCALING_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_folder() == tmp_path / "xdg" / "scaling" / "fits"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_folder() == tmp_path / "home" / ".cache" / "scaling" / "fits"

    def homeless() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", homeless)
    assert default_folder() is None  # nothing kept, the fit goes on


def test_fit_twice_gives_the_same_answer_without_solving_again(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SCALING_CACHE_DIR", str(tmp_path / "fits"))
    monkeypatch.setenv("COLUMNS", "80")
    runs = [str(data_dir() / "runs" / "mock-aime" / m) for m in ("phi-4", "llama-3-8b-instruct")]
    args = ["fit", *runs, "--bootstrap", "50", "--workers", "1"]
    code, first, _ = cli(capsys, *args, "--laws-json", tmp_path / "a.json")
    assert code == 0
    kept = sorted(p.name for p in (tmp_path / "fits").glob("*/*.f8"))
    assert kept

    def no_solving(*a, **k):
        raise AssertionError("a kept law was solved again")

    with monkeypatch.context() as patch:
        patch.setattr(fitting, "fit_laws", no_solving)
        assert cli(capsys, *args, "--laws-json", tmp_path / "b.json")[:2] == (0, first)
        with pytest.raises(AssertionError, match="solved again"):
            cli(capsys, *args, "--no-cache")
        capsys.readouterr()  # what the failed run wrote
    laws = [json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab"]
    assert laws[0] == laws[1]
    assert cli(capsys, *args, "--no-cache")[:2] == (0, first)
    assert sorted(p.name for p in (tmp_path / "fits").glob("*/*.f8")) == kept
