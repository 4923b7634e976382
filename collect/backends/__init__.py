"""Generation backends behind one interface (``collect.backends.base.Backend``).

One module per backend, registered in ``BACKENDS`` (name -> module); each module's ``BACKEND`` is
its ``Backend`` subclass, which builds itself from a collect configuration (``from_config``):

======== ================================================================================
vllm     vLLM's offline engine (GPU, or CPU with the CPU build): prefix caching, tensor parallel
hf       transformers on CPU or GPU
openai   any OpenAI-compatible server (``vllm serve``, SGLang, TGI, ``python -m collect.serve``)
ray      Ray Data over a pool of hf or vllm workers (data parallel)
======== ================================================================================

A new engine is one module here (a ``Backend`` subclass with ``_generate`` and ``from_config``,
and ``BACKEND = ThatClass``), one line in ``BACKENDS``, and its tests. The engines' heavy
libraries are imported only when a backend is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from collect.backends.base import Backend, Completion, Sampling, Unit, sample_seed
from scaling.errors import ScalingError

if TYPE_CHECKING:
    from collect.runner import CollectConfig

BACKENDS: dict[str, str] = {"vllm": "vllm", "hf": "hf", "openai": "openai", "ray": "ray"}

__all__ = [
    "BACKENDS",
    "Backend",
    "Completion",
    "Sampling",
    "Unit",
    "backend_class",
    "build_backend",
    "default_backend",
    "make_backend",
    "sample_seed",
]


def default_backend() -> str:
    """vllm on a CUDA machine with vLLM installed, else hf."""
    import importlib.util

    if importlib.util.find_spec("vllm") is None or importlib.util.find_spec("torch") is None:
        return "hf"
    import torch

    return "vllm" if torch.cuda.is_available() else "hf"


def backend_class(name: str) -> type[Backend]:
    """The ``Backend`` subclass registered as ``name`` (its module imports no engine)."""
    if name not in BACKENDS:
        raise ScalingError(f"--backend {name}: choose one of {', '.join(BACKENDS)}")
    return importlib.import_module(f"collect.backends.{BACKENDS[name]}").BACKEND


def build_backend(name: str, config: CollectConfig, tokenizer) -> Backend:
    """The backend ``name`` as ``scaling collect`` configures it from ``config``."""
    return backend_class(name).from_config(config, tokenizer)


def make_backend(name: str, model: str, **options) -> Backend:
    """The backend ``name`` for ``model``; ``options`` go to its constructor."""
    return backend_class(name)(model, **options)
