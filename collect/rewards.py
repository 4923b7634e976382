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

Engines: ``TransformersRewardModel`` (CPU or GPU) and ``VLLMRewardModel`` (vLLM's pooling runner,
``LLM(runner="pooling")`` with ``encode(pooling_task=...)``, vLLM 0.32). Both return raw
logits and convert them the same way, so they give the same scores on the same weights up to float
error. In vLLM every per-step model uses step pooling (``PoolerConfig(tok_pooling_type="STEP",
step_tag_id=tag)``: the outputs at the tag's positions, ``pooling_task="token_classify"``):
token classifiers as they are (``Qwen2ForProcessRewardModel``; a ``*ForTokenClassification``
vLLM has no class for is loaded as its ``*ForSequenceClassification``, whose ``score`` head is
the same linear layer), a causal LM converted to a classifier from its ``-``/``+`` rows
(``convert="classify"`` with ``hf_overrides={"classifier_from_token": [bad, good], "method":
"from_2_way_softmax"}``: one logit l(+) - l(-) per position, whose sigmoid is the softmax over
``+``/``-``); sequence classifiers pool the last token (``pooling_task="classify"``).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from collect.models import count_parameters, describe_model, load_config, load_tokenizer
from collect.prompts import DEFAULT_SYSTEM, bos_prefix
from scaling.errors import ScalingError

if TYPE_CHECKING:
    from collect.runner import CollectConfig

KINDS = ("prm", "orm")
ENGINES = ("hf", "vllm")
DEFAULT_STEP_TAGS = ("<extra_0>", "ки")
STEP_FORMATS = {"ки": " ки\n", "<extra_0>": "<extra_0>"}
GOOD_BAD = ("+", "-")
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


def to_probability(scores) -> list[float]:
    """Scores per position from raw logits [positions, labels]: softmax index 1, or sigmoid."""
    import torch

    scores = scores.float()
    if scores.ndim == 1:
        scores = scores.unsqueeze(-1)
    labels = scores.shape[-1]
    if labels not in (1, 2):
        raise ScalingError(f"reward model output has {labels} labels per position; expected 1 or 2")
    if labels == 1:
        return torch.sigmoid(scores[:, 0]).tolist()
    return torch.softmax(scores, dim=-1)[:, 1].tolist()


@dataclass(frozen=True)
class RewardScore:
    """One sample's scores: ``reward`` (ORM) or ``step_rewards`` (PRM), and tokens read."""

    reward: float | None
    step_rewards: list[float] | None
    tokens: int


class RewardModel(abc.ABC):
    """Scores completions of questions; ``kind`` is prm (step scores) or orm (one score)."""

    engine = ""

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
        self.good_bad: list[int] = []
        if self.head == "lm":
            pair = tokenizer(" ".join(GOOD_BAD), add_special_tokens=False)["input_ids"]
            if len(pair) != 2:
                pair = [tokenizer(t, add_special_tokens=False)["input_ids"][-1] for t in GOOD_BAD]
            self.good_bad = pair
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
            values = to_probability(out) if len(out) else []
            if self.kind == "prm":
                scores.append(RewardScore(None, [float(v) for v in values], len(ids)))
            else:
                reward = float(values[-1]) if len(values) else None
                scores.append(RewardScore(reward, None, len(ids)))
        return scores

    @abc.abstractmethod
    def _outputs(self, inputs: list[list[int]]) -> list[Any]:
        """Per sample, raw logits: [steps, labels] at the step tags (token heads; ``lm``: the
        logits of ``-`` and ``+``), or [labels] (sequence heads)."""

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
        self.model, loading = auto.from_pretrained(
            model, dtype=resolve_dtype(dtype, self.device), output_loading_info=True
        )
        if loading["missing_keys"]:
            missing = ", ".join(sorted(loading["missing_keys"])[:3])
            raise ScalingError(
                f"--reward-model {model}: transformers' {type(self.model).__name__} does not find "
                f"its weights {missing} in the checkpoint (a {self.architecture} head of its "
                "own); use --reward-backend vllm"
            )
        self.model.to(self.device).eval()
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
                        continue
                    tags = [at for at, t in enumerate(inputs[i]) if t == self.tag_id]
                    out[i] = logits[r, tags]
                    if self.head == "lm":
                        out[i] = out[i][:, self.good_bad].flip(-1)  # (-, +): index 1 is good
        return out


class VLLMRewardModel(RewardModel):
    """A reward model run by vLLM's pooling runner (see the module docstring)."""

    engine = "vllm"

    def __init__(
        self,
        model: str,
        *,
        kind: str | None = None,
        step_tag: str | None = None,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.3,
        **engine_args: Any,
    ):
        from collect.backends.vllm import import_vllm, on_cuda

        vllm = import_vllm()
        from vllm.config import PoolerConfig
        from vllm.pooling_params import PoolingParams

        super().__init__(
            model,
            kind=kind,
            step_tag=step_tag,
            tokenizer=load_tokenizer(model),
            config=load_config(model),
        )
        self.task = "classify" if self.head == "sequence" else "token_classify"
        pooler = {"task": self.task}
        if self.head != "sequence":
            pooler.update(tok_pooling_type="STEP", step_tag_id=self.tag_id)
        options: dict[str, Any] = {}
        if self.head == "lm":
            bad, good = self.tokenizer.convert_ids_to_tokens(self.good_bad[::-1])
            options["convert"] = "classify"
            options["hf_overrides"] = {
                "classifier_from_token": [bad, good],
                "method": "from_2_way_softmax",
            }
        elif (
            self.head == "token"
            and self.architecture not in vllm.ModelRegistry.get_supported_archs()
        ):
            stem = self.architecture.removesuffix("ForTokenClassification")
            options["hf_overrides"] = {"architectures": [f"{stem}ForSequenceClassification"]}
        self.params = PoolingParams(use_activation=False)  # raw logits, converted as in hf
        try:
            self.llm = vllm.LLM(
                model=model,
                runner="pooling",
                pooler_config=PoolerConfig(**pooler),
                tensor_parallel_size=tensor_parallel_size,
                dtype=dtype,
                gpu_memory_utilization=gpu_memory_utilization,
                enforce_eager=not on_cuda(),
                **options,
                **engine_args,
            )
        except (OSError, ValueError) as e:
            raise ScalingError(
                f"--reward-model {model}: vLLM cannot load it as a {self.architecture} "
                f"({str(e).splitlines()[0]}); use --reward-backend hf"
            ) from None

    def _outputs(self, inputs: list[list[int]]) -> list[Any]:
        from vllm import TokensPrompt

        prompts = [TokensPrompt(prompt_token_ids=ids) for ids in inputs]
        results = self.llm.encode(prompts, self.params, pooling_task=self.task, use_tqdm=False)
        return [r.outputs.data for r in results]

    def close(self) -> None:
        from collect.backends.vllm import shutdown

        shutdown(self)


def make_reward_model(engine: str, model: str, **options) -> RewardModel:
    """A reward model on ``engine`` (hf or vllm)."""
    if engine == "hf":
        return TransformersRewardModel(model, **options)
    if engine == "vllm":
        return VLLMRewardModel(model, **options)
    raise ScalingError(f"--reward-backend {engine}: choose one of {', '.join(ENGINES)}")


def reward_engine(config: CollectConfig, backend_name: str) -> str:
    """The reward model's engine: ``--reward-backend``, else vllm with the vllm policy, else hf."""
    return config.reward_backend or ("vllm" if backend_name == "vllm" else "hf")


def build_reward(config: CollectConfig, backend_name: str) -> RewardModel | None:
    """The reward model ``scaling collect`` scores with (None without ``--reward-model``)."""
    if not config.reward_model:
        return None
    engine = reward_engine(config, backend_name)
    options: dict[str, Any] = {
        "kind": config.reward_kind,
        "step_tag": config.step_tag,
        "dtype": config.dtype,
    }
    if engine == "vllm":
        options["tensor_parallel_size"] = config.tensor_parallel
    return make_reward_model(engine, config.reward_model, **options)
