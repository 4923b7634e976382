"""Shared test configuration.

Under CI (``CI`` set in the environment) a skipped test fails, unless it is marked ``gpu``
(it needs more than one CUDA GPU, which CI does not have): every other test's dependencies are
installed by ``.ci/run`` (vLLM's CPU build included, for the tests marked ``vllm``), so a skip
means a missing install.

The laws that the commands under test fit are kept in a folder of this session
(``SCALING_CACHE_DIR``, inherited by the commands' processes), never in the user's cache, and
removed at the end.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

FIT_CACHE = tempfile.mkdtemp(prefix="scaling-test-fits-")
os.environ["SCALING_CACHE_DIR"] = FIT_CACHE


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(FIT_CACHE, ignore_errors=True)


def _ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped and "gpu" not in item.keywords:
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"required test skipped under CI (missing dependency?): {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if _ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"required test module skipped under CI: {report.longrepr}"
