"""Parameter counts and architectures of known models (a flag such as ``--params`` overrides them).

Cost models read a run's architecture from its manifest's ``model`` block first and fall back to
this table by model name (``lookup``), saying so in a notice. Fields: total parameters, layers,
width (d_model), attention heads, key-value heads (grouped-query attention; equal to the heads
for multi-head attention), head dimension and the released weights' dtype.

Sources: the Pythia model cards (total parameters, layers, d_model, as quoted in
``shared/data/README.md``) and their GPT-NeoX configs (heads; multi-head attention, so the
key-value heads equal the heads; head_dim = d_model / heads; float16 weights); the model makers'
published totals for the Mock AIME models (same README; Mistral Large 2402's size and
architecture are undisclosed, so its entry is empty) and their ``config.json`` on the Hugging Face
Hub for layers, heads, key-value heads, head dimension and ``torch_dtype`` (Llama 3.2 90B Vision:
its text decoder's 100 layers include 20 cross-attention layers that read only image tokens;
``n_layers`` counts the 80 self-attention layers, which read the text's KV cache); the Llemma
and Qwen2.5-Math model cards and configs for the models of Wu et al. and of the Qwen2.5-Math
evaluation (Llemma 7B and 34B are Code Llama 7B and 34B continued). Unknown values are None.

``ModelInfo.manifest`` writes name, params, layers and width (run ids hash the model block, so
it stays as it was); the attention fields are read from this table by name when a cost needs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class ModelInfo:
    """A model's canonical name, total parameter count and architecture (None where unknown):
    layers, width, attention heads, key-value heads, head dimension, weights' dtype."""

    name: str
    params: float | None
    n_layers: int | None = None
    d_model: int | None = None
    aliases: tuple[str, ...] = field(default=())
    note: str | None = None
    n_heads: int | None = None
    n_kv_heads: int | None = None
    head_dim: int | None = None
    dtype: str | None = None

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


def _attention(n_heads: int, n_kv_heads: int, head_dim: int, dtype: str) -> dict:
    return {"n_heads": n_heads, "n_kv_heads": n_kv_heads, "head_dim": head_dim, "dtype": dtype}


_PYTHIA = "float16"
_BF16 = "bfloat16"

MODELS: tuple[ModelInfo, ...] = (
    # Pythia (Large Language Monkeys coverage data)
    ModelInfo(
        "pythia-70m", 70_426_624, 6, 512, ("eleutherai/pythia-70m",),
        **_attention(8, 8, 64, _PYTHIA),
    ),
    ModelInfo(
        "pythia-160m", 162_322_944, 12, 768, ("eleutherai/pythia-160m",),
        **_attention(12, 12, 64, _PYTHIA),
    ),
    ModelInfo(
        "pythia-410m", 405_334_016, 24, 1024, ("eleutherai/pythia-410m",),
        **_attention(16, 16, 64, _PYTHIA),
    ),
    ModelInfo(
        "pythia-1b", 1_011_781_632, 16, 2048, ("eleutherai/pythia-1b",),
        **_attention(8, 8, 256, _PYTHIA),
    ),
    ModelInfo(
        "pythia-2.8b", 2_775_208_960, 32, 2560, ("eleutherai/pythia-2.8b",),
        **_attention(32, 32, 80, _PYTHIA),
    ),
    ModelInfo(
        "pythia-6.9b", 6_857_302_016, 32, 4096, ("eleutherai/pythia-6.9b",),
        **_attention(32, 32, 128, _PYTHIA),
    ),
    ModelInfo(
        "pythia-12b", 11_846_072_320, 36, 5120, ("eleutherai/pythia-12b",),
        **_attention(40, 40, 128, _PYTHIA),
    ),
    # Epoch AI Mock AIME models (published totals, approximate)
    ModelInfo(
        "llama-3-8b-instruct", 8.03e9, 32, 4096, ("meta-llama-3-8b-instruct",),
        **_attention(32, 8, 128, _BF16),
    ),
    ModelInfo(
        "llama-3-70b-instruct", 70.6e9, 80, 8192, ("meta-llama-3-70b-instruct",),
        **_attention(64, 8, 128, _BF16),
    ),
    ModelInfo(
        "llama-3.3-70b-instruct", 70.6e9, 80, 8192, ("llama-v3p3-70b-instruct",),
        **_attention(64, 8, 128, _BF16),
    ),
    ModelInfo(
        "llama-2-70b-chat", 69.0e9, 80, 8192, ("llama-2-70b-chat-hf",),
        **_attention(64, 8, 128, "float16"),
    ),
    ModelInfo(
        "llama-3.2-90b-vision-instruct", 88.6e9, 80, 8192, ("llama-v3p2-90b-vision-instruct",),
        **_attention(64, 8, 128, _BF16),
    ),
    ModelInfo("qwen2.5-32b-instruct", 32.8e9, 64, 5120, **_attention(40, 8, 128, _BF16)),
    ModelInfo("qwen2.5-72b-instruct", 72.7e9, 80, 8192, **_attention(64, 8, 128, _BF16)),
    ModelInfo("phi-4", 14.7e9, 40, 5120, **_attention(40, 10, 128, _BF16)),
    ModelInfo("mistral-large-2407", 123e9, 88, 12288, **_attention(96, 8, 128, _BF16)),
    ModelInfo("mistral-large-2411", 123e9, 88, 12288, **_attention(96, 8, 128, _BF16)),
    ModelInfo("mistral-large-2402", None, note="parameter count undisclosed"),
    # Wu et al. (Inference Scaling Laws) and the Qwen2.5-Math evaluation
    ModelInfo(
        "llemma-7b", 6.74e9, 32, 4096, ("eleutherai/llemma_7b", "llemma_7b"),
        **_attention(32, 32, 128, _BF16),
    ),
    ModelInfo(
        "llemma-34b", 33.7e9, 48, 8192, ("eleutherai/llemma_34b", "llemma_34b"),
        **_attention(64, 8, 128, _BF16),
    ),
    ModelInfo(
        "qwen2.5-math-instruct",
        None,
        note="the Qwen2.5-Math evaluation example does not say which size produced it",
    ),
    ModelInfo(
        "qwen2.5-math-1.5b-instruct", 1.54e9, 28, 1536, ("qwen/qwen2.5-math-1.5b-instruct",),
        **_attention(12, 2, 128, _BF16),
    ),
    ModelInfo(
        "qwen2.5-math-7b-instruct", 7.62e9, 28, 3584, ("qwen/qwen2.5-math-7b-instruct",),
        **_attention(28, 4, 128, _BF16),
    ),
    ModelInfo(
        "qwen2.5-math-72b-instruct", 72.7e9, 80, 8192, ("qwen/qwen2.5-math-72b-instruct",),
        **_attention(64, 8, 128, _BF16),
    ),
    ModelInfo(
        "qwen2.5-math-rm-72b",
        72.7e9,
        80,
        8192,
        note="approximate: the size of its base model, Qwen2.5-72B",
        **_attention(64, 8, 128, _BF16),
    ),
)  # fmt: skip


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


def canonical(name: str) -> str:
    """The table's name for a model, else its name normalised as ``lookup`` compares names.

    >>> canonical("meta-llama/Meta-Llama-3-8B-Instruct"), canonical("My_Model")
    ('llama-3-8b-instruct', 'my-model')
    """
    known = lookup(name)
    return known.name if known else _norm(name)


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
    return replace(
        known,
        params=params if params is not None else known.params,
        n_layers=n_layers if n_layers is not None else known.n_layers,
        d_model=d_model if d_model is not None else known.d_model,
        note=None if params is not None else known.note,
    )
