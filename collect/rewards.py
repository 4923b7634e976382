r"""Reward models: a process reward model (PRM, one score per step) or an outcome one (ORM).

Input format. A completion is split into steps at blank lines. For a PRM each step is followed by
the step tag, the way the model was trained: Math-Shepherd's ``ки`` as ``step ки\n``, Qwen2.5-Math-
PRM's ``<extra_0>`` as ``step<extra_0>``, any other tag as ``step TAG\n``. The default tag is
``<extra_0>`` when the reward model's vocabulary has it, else ``ки``. With a chat template the
input is (system instruction, question, assistant turn = tagged steps); without one it is the
question, a newline and the tagged steps. An ORM reads the whole completion as the assistant turn.

Scores, all in [0, 1]. Where the tag's last token stands, the model's output gives one score per
step:
- a token classifier (``*ForTokenClassification``, ``*ProcessRewardModel``): softmax of two logits
  (index 1 = good), or the sigmoid of one;
- a causal LM (Math-Shepherd style): softmax over the logits of the tokens ``+`` and ``-``, the
  probability of ``+``.
A sequence classifier (``*ForSequenceClassification``, ``*RewardModel``) gives one score for the
whole sample (sigmoid of one logit, or softmax index 1 of two); so does any per-step model asked for
an ORM (``kind="orm"``): the whole completion is read as one step.

Step scores are stored as they are (aggregation to one reward is the simulator's choice); an ORM's
score goes to the ``reward`` column. The reward model's parameter count and the number of tokens it
read are recorded for the ``full`` FLOPs accounting.

Engines: ``TransformersRewardModel`` (CPU or GPU) and ``VLLMRewardModel`` (vLLM's pooling runner;
the pooling task for per-token outputs was renamed across versions, ``reward`` (task, < 0.10) ->
``encode`` (0.10) -> ``token_classify`` (>= 0.11), and ``pooling_task`` picks whichever this vLLM
offers).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from collect.models import count_parameters, describe_model, load_config, load_tokenizer
from collect.prompts import DEFAULT_SYSTEM, bos_prefix
from scaling.errors import ScalingError

KINDS = ("prm", "orm")
ENGINES = ("hf", "vllm")
DEFAULT_STEP_TAGS = ("<extra_0>", "ки")
STEP_FORMATS = {"ки": " ки\n", "<extra_0>": "<extra_0>"}
GOOD_BAD = ("+", "-")
TOKEN_TASKS = ("token_classify", "encode")  # vLLM >= 0.11, vLLM 0.10
SEQUENCE_TASKS = ("classify",)
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


def split_steps(text: str) -> list[str]:
    """A completion's steps: its non-empty blocks between blank lines."""
    return [s.strip() for s in _BLANK_LINES.split(text) if s.strip()]


def head_of(architecture: str) -> str:
    """Which output a reward architecture has: ``token``, ``sequence`` or ``lm`` logits."""
    if architecture.endswith("ForTokenClassification") or "ProcessRewardModel" in architecture:
        return "token"
    if architecture.endswith(("ForSequenceClassification", "RewardModel")):
        return "sequence"
    if architecture.endswith(("ForCausalLM", "LMHeadModel")):
        return "lm"
    raise ScalingError(
        f"reward model architecture {architecture}: not a token classifier, sequence classifier "
        "or causal LM; pass another --reward-model"
    )


def to_probability(scores, activated: bool | None = False) -> list[float]:
    """Scores per position from a [positions, labels] tensor: softmax index 1, or sigmoid of one.

    ``activated`` says the engine already applied its activation (True), did not (False), or may
    have (None: vLLM's pooling applies one by default in some versions): then rows that are
    distributions (non-negative, summing to 1), or single scores within [0, 1], are kept as is.
    """
    import torch

    scores = scores.float()
    if scores.ndim == 1:
        scores = scores.unsqueeze(-1)
    labels = scores.shape[-1]
    if labels not in (1, 2):
        raise ScalingError(f"reward model output has {labels} labels per position; expected 1 or 2")
    if activated is None:
        if labels == 1:
            activated = bool(((scores >= 0) & (scores <= 1)).all())
        else:
            total = scores.sum(-1)
            activated = bool((scores >= 0).all()) and bool(
                torch.allclose(total, torch.ones_like(total), atol=1e-4)
            )
    if labels == 1:
        return (scores[:, 0] if activated else torch.sigmoid(scores[:, 0])).tolist()
    return (scores if activated else torch.softmax(scores, dim=-1))[:, 1].tolist()


@dataclass(frozen=True)
class RewardScore:
    """One sample's scores: ``reward`` (ORM) or ``step_rewards`` (PRM), and tokens read."""

    reward: float | None
    step_rewards: list[float] | None
    tokens: int


class RewardModel(abc.ABC):
    """Scores completions of questions; ``kind`` is prm (step scores) or orm (one score)."""

    engine = ""
    activated: bool | None = False  # whether outputs already went through softmax/sigmoid

    def __init__(self, model: str, *, kind: str | None, step_tag: str | None, tokenizer, config):
        self.model_id = model
        self.config = config
        self.tokenizer = tokenizer
        architectures = getattr(config, "architectures", None) or [type(config).__name__]
        self.architecture = architectures[0]
        self.head = head_of(self.architecture)
        default_kind = "orm" if self.head == "sequence" else "prm"
        self.kind = kind or default_kind
        if self.kind not in KINDS:
            raise ScalingError(f"--reward-kind {self.kind}: choose prm or orm")
        if self.kind == "prm" and self.head == "sequence":
            raise ScalingError(
                f"--reward-model {model}: a sequence classifier gives one score per sample; "
                "use --reward-kind orm"
            )
        self.step_tag = None
        self.tag_id = None
        if self.head != "sequence":
            vocab = tokenizer.get_vocab()
            self.step_tag = step_tag or next(
                (t for t in DEFAULT_STEP_TAGS if t in vocab), DEFAULT_STEP_TAGS[-1]
            )
            ids = tokenizer(self.step_tag, add_special_tokens=False)["input_ids"]
            if not ids:
                raise ScalingError(f"--step-tag {self.step_tag!r}: encodes to no token")
            self.tag_id = ids[-1]
        self._bos = bos_prefix(tokenizer)

    # -- inputs --------------------------------------------------------------------------------
    def render(self, question: str, completion: str) -> str:
        """The text the reward model reads for one sample (see the module docstring)."""
        if self.head == "sequence":
            body = completion.strip()
        else:
            sep = STEP_FORMATS.get(self.step_tag, f" {self.step_tag}\n")
            steps = split_steps(completion) if self.kind == "prm" else [completion.strip()]
            body = "".join(step + sep for step in steps)
        if getattr(self.tokenizer, "chat_template", None):
            messages = [
                {"role": "system", "content": DEFAULT_SYSTEM},
                {"role": "user", "content": question},
                {"role": "assistant", "content": body},
            ]
            return self.tokenizer.apply_chat_template(messages, tokenize=False)
        return f"{self._bos}{question}\n{body}"

    def encode(self, questions: Sequence[str], completions: Sequence[str]) -> list[list[int]]:
        texts = [self.render(q, c) for q, c in zip(questions, completions, strict=True)]
        return [list(ids) for ids in self.tokenizer(texts, add_special_tokens=False)["input_ids"]]

    def count_tokens(self, questions: Sequence[str], completions: Sequence[str]) -> list[int]:
        """Tokens the reward model reads per sample (for FLOPs accounting)."""
        return [len(ids) for ids in self.encode(questions, completions)]

    # -- scoring ---------------------------------------------------------------------------------
    def score(self, questions: Sequence[str], completions: Sequence[str]) -> list[RewardScore]:
        """Score each (question, completion) pair."""
        inputs = self.encode(questions, completions)
        outputs = self._outputs(inputs)
        scores = []
        for ids, out in zip(inputs, outputs, strict=True):
            if self.head == "sequence":
                values = to_probability(out, self.activated)
            else:
                at = [i for i, t in enumerate(ids) if t == self.tag_id]
                values = to_probability(out[at], self.activated) if at else []
            if self.kind == "prm":
                scores.append(RewardScore(None, [float(v) for v in values], len(ids)))
            else:
                reward = float(values[-1]) if len(values) else None
                scores.append(RewardScore(reward, None, len(ids)))
        return scores

    @abc.abstractmethod
    def _outputs(self, inputs: list[list[int]]) -> list[Any]:
        """Per sample: [tokens, labels] scores (token heads), or [labels] (sequence heads)."""

    def describe(self) -> dict[str, Any]:
        """Manifest ``reward_model`` fields (token totals are added by the runner)."""
        from transformers import (
            AutoModelForCausalLM,
            AutoModelForSequenceClassification,
            AutoModelForTokenClassification,
        )

        auto = {
            "token": AutoModelForTokenClassification,
            "sequence": AutoModelForSequenceClassification,
            "lm": AutoModelForCausalLM,
        }[self.head]
        info = describe_model(self.model_id)
        try:
            params, _ = count_parameters(self.config, auto)
        except (ValueError, KeyError):
            params = None
        return {
            "name": info["name"],
            "path": info["path"],
            "params": params,
            "kind": self.kind,
            "architecture": self.architecture,
            "step_tag": self.step_tag,
            "engine": self.engine,
        }

    def close(self) -> None:
        """Release the model (nothing to do unless an engine holds resources)."""
        return None


class TransformersRewardModel(RewardModel):
    """A reward model run with transformers; rows are batched, right-padded."""

    engine = "hf"

    def __init__(
        self,
        model: str,
        *,
        kind: str | None = None,
        step_tag: str | None = None,
        device: str | None = None,
        dtype: str = "auto",
        batch_size: int = 8,
    ):
        import torch
        from transformers import (
            AutoModelForCausalLM,
            AutoModelForSequenceClassification,
            AutoModelForTokenClassification,
        )

        from collect.backends.hf import resolve_dtype

        super().__init__(
            model,
            kind=kind,
            step_tag=step_tag,
            tokenizer=load_tokenizer(model),
            config=load_config(model),
        )
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.batch_size = max(1, batch_size)
        auto = {
            "token": AutoModelForTokenClassification,
            "sequence": AutoModelForSequenceClassification,
            "lm": AutoModelForCausalLM,
        }[self.head]
        self.model = auto.from_pretrained(model, dtype=resolve_dtype(dtype, self.device))
        self.model.to(self.device).eval()
        if self.head == "lm":
            pair = self.tokenizer(" ".join(GOOD_BAD), add_special_tokens=False)["input_ids"]
            if len(pair) != 2:
                pair = [
                    self.tokenizer(t, add_special_tokens=False)["input_ids"][-1] for t in GOOD_BAD
                ]
            self.good_bad = pair
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.tokenizer.eos_token_id or 0
        if self.head == "sequence" and self.model.config.pad_token_id is None:
            self.model.config.pad_token_id = self.pad_id

    def _outputs(self, inputs: list[list[int]]) -> list[Any]:
        import torch

        order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
        out: list[Any] = [None] * len(inputs)
        with torch.inference_mode():
            for at in range(0, len(order), self.batch_size):
                rows = order[at : at + self.batch_size]
                width = max(len(inputs[i]) for i in rows)
                ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for r, i in enumerate(rows):
                    ids[r, : len(inputs[i])] = torch.tensor(inputs[i])
                    mask[r, : len(inputs[i])] = 1
                logits = (
                    self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device))
                    .logits.float()
                    .cpu()
                )
                for r, i in enumerate(rows):
                    if self.head == "sequence":
                        out[i] = logits[r]
                    elif self.head == "lm":
                        out[i] = logits[r, : len(inputs[i])][:, self.good_bad].flip(-1)
                    else:
                        out[i] = logits[r, : len(inputs[i])]
        return out


class VLLMRewardModel(RewardModel):
    """A reward model run by vLLM's pooling runner (token or sequence classifiers)."""

    engine = "vllm"
    activated = None

    def __init__(
        self,
        model: str,
        *,
        kind: str | None = None,
        step_tag: str | None = None,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.3,
    ):
        from collect.backends.vllm import import_vllm

        vllm = import_vllm()
        config = load_config(model)
        if head_of((getattr(config, "architectures", None) or [""])[0]) == "lm":
            raise ScalingError(
                f"--reward-model {model}: a causal-LM PRM is scored from its LM logits, which "
                "vLLM's pooling runner does not return; use --reward-backend hf"
            )
        self.llm = vllm.LLM(
            model=model,
            runner="pooling",
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=gpu_memory_utilization,
        )
        super().__init__(
            model, kind=kind, step_tag=step_tag, tokenizer=self.llm.get_tokenizer(), config=config
        )
        candidates = SEQUENCE_TASKS if self.head == "sequence" else TOKEN_TASKS
        supported = getattr(self.llm, "supported_tasks", None)
        if supported is None:
            supported = self.llm.llm_engine.get_supported_tasks()
        supported = set(supported)
        self.task = next((t for t in candidates if t in supported), None)
        if self.task is None:
            raise ScalingError(
                f"--reward-model {model}: this vLLM offers pooling tasks {sorted(supported)}, "
                f"none of {list(candidates)}; use --reward-backend hf"
            )

    def _outputs(self, inputs: list[list[int]]) -> list[Any]:
        prompts = [{"prompt_token_ids": ids} for ids in inputs]
        results = self.llm.encode(prompts, pooling_task=self.task, use_tqdm=False)
        return [r.outputs.data for r in results]


def make_reward_model(engine: str, model: str, **options) -> RewardModel:
    """A reward model on ``engine`` (hf or vllm)."""
    if engine == "hf":
        return TransformersRewardModel(model, **options)
    if engine == "vllm":
        return VLLMRewardModel(model, **options)
    raise ScalingError(f"--reward-backend {engine}: choose one of {', '.join(ENGINES)}")
