"""Generation backends behind one interface (``collect.backends.base.Backend``).

``make_backend(name, model, **options)`` builds one: ``hf`` (transformers), ``vllm`` (offline
vLLM), ``openai`` (an OpenAI-compatible server) or ``ray`` (Ray Data over hf/vllm workers). The
engines' heavy libraries are imported only when their backend is built.
"""

from __future__ import annotations

from collect.backends.base import Backend, Completion, Sampling, Unit, sample_seed

BACKENDS = ("vllm", "hf", "openai", "ray")

__all__ = ["BACKENDS", "Backend", "Completion", "Sampling", "Unit", "make_backend", "sample_seed"]


def make_backend(name: str, model: str, **options) -> Backend:
    """A backend by name; ``options`` go to its constructor."""
    if name == "hf":
        from collect.backends.hf import HFBackend

        return HFBackend(model, **options)
    if name == "vllm":
        from collect.backends.vllm import VLLMBackend

        return VLLMBackend(model, **options)
    if name == "openai":
        from collect.backends.openai import OpenAIBackend

        return OpenAIBackend(model, **options)
    if name == "ray":
        from collect.backends.ray import RayBackend

        return RayBackend(model, **options)
    from scaling.errors import ScalingError

    raise ScalingError(f"--backend {name}: choose one of {', '.join(BACKENDS)}")
