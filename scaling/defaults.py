"""Defaults shared by the Python API and the command line, in a module that imports nothing
heavy (the command line's option defaults are read when ``scaling --help`` starts)."""

from __future__ import annotations

BOOTSTRAP = 1000  # paired bootstrap replicates, the one default of simulate, fit and explore
