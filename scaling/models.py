"""Parameter counts of known models (a flag such as ``--params`` overrides them).

Sources: the Pythia model cards (total parameters, layers, d_model, as quoted in
``shared/data/README.md``); the model makers' published totals for the Mock AIME models (same
README; Mistral Large 2402's size is undisclosed, so its ``params`` is None); the Llemma and
Qwen2.5-Math model cards for the models of Wu et al. and of the Qwen2.5-Math evaluation. Layers
and width are given where the model's config publishes them, else None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelInfo:
    """A model's canonical name, total parameter count, depth and width (None where unknown)."""

    name: str
    params: float | None
    n_layers: int | None = None
    d_model: int | None = None
    aliases: tuple[str, ...] = field(default=())
    note: str | None = None

    def manifest(self) -> dict:
        """The ``model`` block of a run manifest."""
        out: dict = {"name": self.name, "params": self.params}
        if self.n_layers is not None:
            out["n_layers"] = self.n_layers
        if self.d_model is not None:
            out["d_model"] = self.d_model
        if self.note:
            out["note"] = self.note
        return out


MODELS: tuple[ModelInfo, ...] = (
    # Pythia (Large Language Monkeys coverage data)
    ModelInfo("pythia-70m", 70_426_624, 6, 512, ("eleutherai/pythia-70m",)),
    ModelInfo("pythia-160m", 162_322_944, 12, 768, ("eleutherai/pythia-160m",)),
    ModelInfo("pythia-410m", 405_334_016, 24, 1024, ("eleutherai/pythia-410m",)),
    ModelInfo("pythia-1b", 1_011_781_632, 16, 2048, ("eleutherai/pythia-1b",)),
    ModelInfo("pythia-2.8b", 2_775_208_960, 32, 2560, ("eleutherai/pythia-2.8b",)),
    ModelInfo("pythia-6.9b", 6_857_302_016, 32, 4096, ("eleutherai/pythia-6.9b",)),
    ModelInfo("pythia-12b", 11_846_072_320, 36, 5120, ("eleutherai/pythia-12b",)),
    # Epoch AI Mock AIME models (published totals, approximate)
    ModelInfo("llama-3-8b-instruct", 8.03e9, 32, 4096, ("meta-llama-3-8b-instruct",)),
    ModelInfo("llama-3-70b-instruct", 70.6e9, 80, 8192, ("meta-llama-3-70b-instruct",)),
    ModelInfo("llama-3.3-70b-instruct", 70.6e9, 80, 8192, ("llama-v3p3-70b-instruct",)),
    ModelInfo("llama-2-70b-chat", 69.0e9, 80, 8192, ("llama-2-70b-chat-hf",)),
    ModelInfo(
        "llama-3.2-90b-vision-instruct", 88.6e9, None, None, ("llama-v3p2-90b-vision-instruct",)
    ),
    ModelInfo("qwen2.5-32b-instruct", 32.8e9, 64, 5120),
    ModelInfo("qwen2.5-72b-instruct", 72.7e9, 80, 8192),
    ModelInfo("phi-4", 14.7e9, 40, 5120),
    ModelInfo("mistral-large-2407", 123e9, 88, 12288),
    ModelInfo("mistral-large-2411", 123e9, 88, 12288),
    ModelInfo("mistral-large-2402", None, note="parameter count undisclosed"),
    # Wu et al. (Inference Scaling Laws) and the Qwen2.5-Math evaluation
    ModelInfo("llemma-7b", 6.74e9, 32, 4096, ("eleutherai/llemma_7b", "llemma_7b")),
    ModelInfo("llemma-34b", 33.7e9, 48, 8192, ("eleutherai/llemma_34b", "llemma_34b")),
    ModelInfo(
        "qwen2.5-math-instruct",
        None,
        note="the Qwen2.5-Math evaluation example does not say which size produced it",
    ),
    ModelInfo(
        "qwen2.5-math-rm-72b",
        72.7e9,
        80,
        8192,
        note="approximate: the size of its base model, Qwen2.5-72B",
    ),
)


def _norm(name: str) -> str:
    """Lower case, last path component, spaces and underscores as dashes."""
    last = name.strip().rstrip("/").split("/")[-1]
    return re.sub(r"[\s_]+", "-", last.lower())


_INDEX: dict[str, ModelInfo] = {}
for _m in MODELS:
    for _alias in (_m.name, *_m.aliases):
        _INDEX[_norm(_alias)] = _m


def lookup(name: str) -> ModelInfo | None:
    """The table entry for a model name (case, org prefix and spacing ignored), else None.

    >>> lookup("Pythia 12B").params
    11846072320
    >>> lookup("sagemaker/meta-llama/Meta-Llama-3-8B-Instruct").name
    'llama-3-8b-instruct'
    """
    return _INDEX.get(_norm(name))


def resolve(
    name: str,
    *,
    params: float | None = None,
    n_layers: int | None = None,
    d_model: int | None = None,
) -> ModelInfo:
    """The model block for ``name``: the table entry (if any) with explicit values overriding.

    An unknown model with no ``params`` gets ``params=None`` (allowed: its FLOPs are unknown).
    """
    known = lookup(name)
    if known is None:
        known = ModelInfo(name, None)
    return ModelInfo(
        known.name,
        params if params is not None else known.params,
        n_layers if n_layers is not None else known.n_layers,
        d_model if d_model is not None else known.d_model,
        known.aliases,
        None if params is not None else known.note,
    )
