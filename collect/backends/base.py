"""The generation interface every backend implements.

One call generates one completion per (prompt, seed) pair::

    backend.generate(prompts, sampling, seeds, stop=None) -> list[Completion]

``prompts[i]`` is raw text (continued verbatim, tokenized without added special tokens) or a list
of chat messages (rendered by the model's chat template); prompts may repeat, so ``n`` samples of
one prompt are the prompt repeated ``n`` times with ``n`` seeds, and engines with prefix caching
(vLLM) compute the shared prefix once. ``seeds[i]`` fixes the random stream of completion ``i``
alone: the same (prompt, seed, sampling) gives the same completion however requests are batched,
sharded or ordered. ``stop`` strings end a completion; the text excludes the stop string and
``Completion.stop`` says which one matched (None for end-of-sequence or the length cap). Temperature
0 is greedy decoding. Step-wise generation (tree search) is ``generate`` with the step delimiter as
a stop string, called again on prompt + partial solution.

Context: a backend that knows its model's context (``max_context`` positions, prompt and
completion together) generates at most ``max_context - prompt tokens`` tokens per request; a
completion that fills the context ends with finish reason ``length`` (``Completion.fills``), and
a prompt that leaves no room gets an empty one. The caller decides what that means: ``scaling
collect`` refuses prompts that leave no room before generating, tree search closes the branch.

``stream`` is the bulk path of ``scaling collect``: work units (one problem's samples) in, results
out as they finish, so the caller can write them while the engine keeps generating.

Seeds: sample ``i`` of problem ``p`` uses ``sample_seed(seed, p, i)`` = (SHA-256 of "seed:p" mod
2^31) + i. Distinct indices of a problem never share a seed (one seed shared by the n samples
of a request would make them identical), and the seed of a sample does not depend on how many
samples are requested, so raising ``--samples`` later extends the same streams (and matches
vLLM's own ``n`` fan-out, which gives child ``j`` the seed ``seed + j``).
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from collect.prompts import Prompt

if TYPE_CHECKING:
    from collect.runner import CollectConfig


@dataclass(frozen=True)
class Sampling:
    """Decoding settings shared by one call: temperature (0 = greedy), nucleus top_p, token cap."""

    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 1024

    def greedy(self) -> Sampling:
        return replace(self, temperature=0.0, top_p=1.0)


@dataclass(frozen=True)
class Completion:
    """One generated completion with its measured token counts."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (end of sequence or a stop string) or "length"
    stop: str | None = None  # the stop string that ended it

    def fills(self, max_context: int | None) -> bool:
        """Whether generation stopped because prompt + completion filled the context."""
        return (
            max_context is not None
            and self.finish_reason == "length"
            and self.prompt_tokens + self.completion_tokens >= max_context
        )


@dataclass(frozen=True)
class Unit:
    """A piece of collection work: some samples of one problem's prompt, with their seeds."""

    problem_id: str
    prompt: Prompt
    sample_idx: tuple[int, ...]
    seeds: tuple[int, ...]
    greedy: bool = False

    def __len__(self) -> int:
        return len(self.seeds)


def sample_seed(seed: int, problem_id: str, sample_idx: int) -> int:
    """The seed of sample ``sample_idx`` of ``problem_id``: (SHA-256("seed:id") mod 2^31) + idx."""
    digest = hashlib.sha256(f"{seed}:{problem_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % (1 << 31) + sample_idx


def room(max_tokens: int, prompt_tokens: int, max_context: int | None) -> int:
    """Tokens a request may generate: ``max_tokens``, less where the context runs out first."""
    if max_context is None:
        return max_tokens
    return max(0, min(max_tokens, max_context - prompt_tokens))


class Backend(abc.ABC):
    """A text-generation engine. Subclasses implement ``_generate`` and ``from_config``;
    ``stream`` has a default.

    Class attributes say what the engine can do: ``needs_tokenizer`` (False: a served model may
    be known by name only), ``searches`` (False: it cannot serve tree search's step-by-step
    ``generate`` calls).
    """

    name = ""
    needs_tokenizer = True
    searches = True
    chunk_samples = 1  # samples the default ``stream`` hands to one ``generate`` call
    max_context: int | None = None  # positions of the model's context (None: unknown)

    @classmethod
    @abc.abstractmethod
    def from_config(cls, config: CollectConfig, tokenizer) -> Backend:
        """The backend ``scaling collect`` builds for ``config`` (``tokenizer``: the policy's,
        or None for a served model known by name only)."""

    def warm_up(self, prompt: Prompt) -> None:
        """Run one short request so that first-call costs are not timed with the real work."""
        self.generate([prompt], Sampling(0.0, 1.0, 1), [0])

    def generate(
        self,
        prompts: Sequence[Prompt],
        sampling: Sampling,
        seeds: Sequence[int],
        stop: Sequence[str] | None = None,
    ) -> list[Completion]:
        """One completion per (prompt, seed) pair, in order."""
        if len(prompts) != len(seeds):
            raise ValueError("generate: prompts and seeds differ in length")
        return self._generate(list(prompts), sampling, [int(s) for s in seeds], list(stop or ()))

    @abc.abstractmethod
    def _generate(
        self, prompts: list[Prompt], sampling: Sampling, seeds: list[int], stop: list[str]
    ) -> list[Completion]:
        """``generate`` after its checks: ``stop`` is a (possibly empty) list."""

    def stream(
        self, units: Iterable[Unit], sampling: Sampling, stop: Sequence[str] | None = None
    ) -> Iterator[list[tuple[Unit, list[Completion]]]]:
        """Generate units in chunks of about ``chunk_samples`` samples; yield each chunk's results.

        A unit marked ``greedy`` is decoded at temperature 0, the others with ``sampling``.
        """
        chunk: list[Unit] = []
        for unit in units:
            chunk.append(unit)
            if sum(map(len, chunk)) >= self.chunk_samples:
                yield self.generate_units(chunk, sampling, stop)
                chunk = []
        if chunk:
            yield self.generate_units(chunk, sampling, stop)

    def generate_units(
        self, units: list[Unit], sampling: Sampling, stop: Sequence[str] | None
    ) -> list[tuple[Unit, list[Completion]]]:
        """Generate whole units (greedy units at temperature 0) in one call per kind."""
        done: dict[int, list[Completion]] = {}
        for greedy in (True, False):
            group = [k for k, u in enumerate(units) if u.greedy == greedy]
            if not group:
                continue
            prompts = [units[k].prompt for k in group for _ in units[k].seeds]
            seeds = [s for k in group for s in units[k].seeds]
            flat = self.generate(prompts, sampling.greedy() if greedy else sampling, seeds, stop)
            at = 0
            for k in group:
                done[k] = flat[at : at + len(units[k])]
                at += len(units[k])
        return [(u, done[k]) for k, u in enumerate(units)]

    @property
    def gpus(self) -> int:
        """GPUs this backend occupies (for GPU-seconds in the manifest)."""
        return 0

    def info(self) -> dict[str, Any]:
        """Engine facts for the manifest (backend name, device, dtype, ...)."""
        return {"backend": self.name, "gpus": self.gpus}

    def close(self) -> None:
        """Release the engine (GPU memory, worker processes); nothing by default."""
        return None

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
