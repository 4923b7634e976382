"""The offline analysis installs and runs without the extras: every module-level import of
``scaling/`` and ``fit/`` is the standard library, the project, or a core dependency declared in
pyproject.toml (optional ones are imported where they are used)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# import name -> the core distribution that brings it, where they differ
DISTRIBUTION = {"math_verify": "math-verify", "llvmlite": "numba"}


def core_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0]
        for mark in "<>=!~[ ":
            name = name.split(mark)[0]
        names.add(name.strip().lower())
    return names


def module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in tree.body:  # module level only (not inside functions or TYPE_CHECKING blocks)
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_module_level_imports_are_core_dependencies():
    core = core_dependencies()
    ours = {"scaling", "fit", "collect"}
    wrong = {}
    for folder in ("scaling", "fit"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in module_level_imports(path):
                if name in sys.stdlib_module_names or name in ours or name == "__future__":
                    continue
                if DISTRIBUTION.get(name, name).lower() not in core:
                    wrong.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert not wrong, f"imported at module level but not a core dependency: {wrong}"
