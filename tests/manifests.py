"""Typed manifests for tests, built and validated through the public API as a run's are."""

from __future__ import annotations

from typing import Any

from scaling.manifest import Manifest, parse_manifest
from scaling.store import new_manifest


def typed_manifest(model: dict[str, Any], **blocks: Any) -> Manifest:
    """A complete manifest for the ``model`` block, parsed as ``run.json``; ``blocks`` (tokens,
    reward_model, extra, ...) replace the minimal defaults of ``scaling.store.new_manifest``."""
    raw = new_manifest(
        **{
            "model": model,
            "problem_set": "test",
            "sampling": {"n": 1},
            "tokens": {"source": "none"},
            "provenance": {"source": "test"},
        }
        | blocks
    )
    return parse_manifest(raw, "run.json")
