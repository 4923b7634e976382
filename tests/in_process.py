"""The CLI run in-process, as a test sees it."""

from __future__ import annotations

from scaling.cli import main


def cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``scaling *args`` in-process; returns (exit status, stdout, stderr)."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err
