"""Tiny models built locally for the collect tests (no hub access): a BPE tokenizer with a chat
template, a 2-layer Llama policy trained for a few seconds to answer "What is a + b?" in
``\\boxed{}``, and random token- and sequence-classification reward models. Every model has one
attention head of dimension 64, a size vLLM's CPU attention has kernels for, so the same models
serve the transformers, vLLM and server tests.

``build_all(root)`` builds everything once under ``root`` (reused when already there) and returns
the paths. Every random step is seeded.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd

from collect.prompts import DEFAULT_SYSTEM

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL = ["<unk>", "<s>", "</s>", "<pad>", "<|system|>", "<|user|>", "<|assistant|>", "ки"]


def questions(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` (question, answer) pairs "What is a + b?" with small numbers."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        out.append((f"What is {a} + {b}?", str(a + b)))
    return out


def solution(question: str, answer: str) -> str:
    a, b = question.removeprefix("What is ").removesuffix("?").split(" + ")
    return (
        f"We add {a} and {b}.\n\n{a} + {b} = {answer}.\n\nThe final answer is \\boxed{{{answer}}}."
    )


def build_tokenizer(path: Path, *, chat: bool = True, extra: tuple[str, ...] = ()):
    """The BPE tokenizer; ``extra`` special tokens are added (e.g. Qwen's ``<extra_0>`` tag)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=[*SPECIAL, *extra],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = [DEFAULT_SYSTEM] + [q + " " + solution(q, a) for q, a in questions(200, seed=1)]
    tok.train_from_iterator(corpus * 3, trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
    )
    if chat:
        hf.chat_template = CHAT_TEMPLATE
    hf.save_pretrained(path)
    return hf


def llama_config(tokenizer, **overrides):
    """A 2-layer Llama config sized for ``tokenizer``; ``overrides`` replace any field."""
    from transformers import LlamaConfig

    fields = {
        "vocab_size": len(tokenizer),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 1,
        "num_key_value_heads": 1,
        "max_position_embeddings": 512,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "tie_word_embeddings": True,
    }
    return LlamaConfig(**{**fields, **overrides})


def build_policy(path: Path, tokenizer, steps: int = 120):
    """A tiny causal LM, trained briefly on chat-formatted sums so it often answers right."""
    import torch
    from transformers import LlamaForCausalLM

    from collect.prompts import build_template

    torch.manual_seed(0)
    model = LlamaForCausalLM(llama_config(tokenizer))
    template = build_template(tokenizer)
    texts = [
        template.render(q) + solution(q, a) + tokenizer.eos_token for q, a in questions(64, seed=2)
    ]
    batch = tokenizer(texts, add_special_tokens=False, padding=True, return_tensors="pt")
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_reward(path: Path, tokenizer, head: str):
    """A random reward model: ``token`` (PRM, 2 labels) or ``sequence`` (ORM, 1 label)."""
    import torch
    from transformers import LlamaForSequenceClassification, LlamaForTokenClassification

    torch.manual_seed(1)
    if head == "token":
        model = LlamaForTokenClassification(llama_config(tokenizer, num_labels=2))
    else:
        model = LlamaForSequenceClassification(llama_config(tokenizer, num_labels=1))
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def build_qwen_prm(path: Path, tokenizer):
    """A random ``Qwen2ForProcessRewardModel`` (Qwen2.5-Math-PRM's layout: a Qwen2 model and a
    two-layer head ``score.0`` -> ReLU -> ``score.2`` with two labels), saved with safetensors."""
    import torch
    from safetensors.torch import save_file
    from transformers import Qwen2Config, Qwen2Model

    fields = llama_config(tokenizer).to_dict()
    keep = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers")
    config = Qwen2Config(
        **{k: fields[k] for k in keep},
        num_attention_heads=1,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        architectures=["Qwen2ForProcessRewardModel"],
        num_labels=2,
    )
    torch.manual_seed(2)
    backbone = Qwen2Model(config)
    width = config.hidden_size
    weights = {f"model.{k}": v.contiguous() for k, v in backbone.state_dict().items()}
    weights |= {
        "score.0.weight": torch.randn(width, width) / width**0.5,
        "score.0.bias": torch.randn(width) * 0.1,
        "score.2.weight": torch.randn(2, width) / width**0.5,
        "score.2.bias": torch.randn(2) * 0.1,
    }
    path.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(path / "model.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def qwen_prm_logits(path: Path, ids: list[int]):
    """Reference [tokens, 2] logits of ``build_qwen_prm``'s model, computed with transformers'
    Qwen2Model and the head applied by hand."""
    import torch
    from safetensors.torch import load_file
    from transformers import Qwen2Model

    weights = load_file(str(path / "model.safetensors"))
    model = Qwen2Model.from_pretrained(path).eval()
    with torch.inference_mode():
        hidden = model(input_ids=torch.tensor([ids])).last_hidden_state[0]
        inner = torch.relu(hidden @ weights["score.0.weight"].T + weights["score.0.bias"])
        return inner @ weights["score.2.weight"].T + weights["score.2.bias"]


def write_problems(path: Path, n: int, seed: int = 3) -> Path:
    """A JSONL problem file with ``n`` sums (fields: id, question, answer)."""
    rows = [
        {"id": f"sum-{i}", "question": q, "answer": a}
        for i, (q, a) in enumerate(questions(n, seed))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def build_all(root: Path) -> dict[str, Path]:
    """Build (or reuse) the policy, the reward models and a problem file under ``root``."""
    root = Path(root)
    paths = {
        "policy": root / "policy",
        "prm": root / "prm",
        "orm": root / "orm",
        "extra-prm": root / "extra-prm",  # a token-classifier PRM whose tag is <extra_0>
        "qwen-prm": root / "qwen-prm",
        "problems": root / "problems.jsonl",
    }
    if not (root / "done").exists():
        root.mkdir(parents=True, exist_ok=True)
        tokenizer = build_tokenizer(root / "tokenizer")
        build_policy(paths["policy"], tokenizer)
        build_reward(paths["prm"], tokenizer, "token")
        build_reward(paths["orm"], tokenizer, "sequence")
        qwen = build_tokenizer(root / "qwen-tokenizer", extra=("<extra_0>",))
        build_reward(paths["extra-prm"], qwen, "token")
        build_qwen_prm(paths["qwen-prm"], qwen)
        write_problems(paths["problems"], 6)
        (root / "done").write_text("ok")
    return paths


# -- shared collect settings ----------------------------------------------------------------------
SAMPLES = 8
COLLECT_OPTIONS = {"max_tokens": 40, "batch_size": 4, "flush_samples": 8, "greedy": True}


def collect_config(paths: dict[str, Path], out: Path, **overrides):
    """The collect settings every test shares (hf backend, PRM, 8 samples + greedy)."""
    from collect.runner import CollectConfig

    options = {
        "model": str(paths["policy"]),
        "dataset": str(paths["problems"]),
        "samples": SAMPLES,
        "out": out,
        "backend": "hf",
        "reward_model": str(paths["prm"]),
        **COLLECT_OPTIONS,
        **overrides,
    }
    return CollectConfig(**options)


def scaling_process(*args: str) -> subprocess.Popen:
    """``python -m scaling ARGS`` in a session of its own (so a test can signal it and any
    engine processes it starts), offline, one thread per process."""
    return subprocess.Popen(
        [sys.executable, "-m", "scaling", *args],
        env={**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def cli_args(paths: dict[str, Path], out: Path, *extra: str) -> list[str]:
    """``scaling collect`` arguments equal to ``collect_config(paths, out)``."""
    return [
        "collect",
        "--model", str(paths["policy"]),
        "--dataset", str(paths["problems"]),
        "--samples", str(SAMPLES),
        "--out", str(out),
        "--backend", "hf",
        "--reward-model", str(paths["prm"]),
        "--max-tokens", str(COLLECT_OPTIONS["max_tokens"]),
        "--batch-size", str(COLLECT_OPTIONS["batch_size"]),
        "--flush-every", str(COLLECT_OPTIONS["flush_samples"]),
        "--greedy",
        *extra,
    ]  # fmt: skip


def samples_of(path) -> pd.DataFrame:
    """A run's samples in key order, categoricals as strings (for equality checks)."""
    from scaling.store import Run

    frame = Run.open(path).samples(text=True)
    for column in ("problem_id", "cluster"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame.sort_values(["problem_id", "greedy", "sample_idx"]).reset_index(drop=True)


def assert_same_samples(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Equal sample tables (from ``samples_of``): every column exactly, the reward model's
    scores up to 1e-6 (its float results may differ in the last bits between batch shapes)."""
    import numpy as np

    exact = [c for c in want.columns if c not in ("reward", "step_rewards")]
    pd.testing.assert_frame_equal(got[exact], want[exact])
    assert np.allclose(
        got["reward"].astype(float), want["reward"].astype(float), atol=1e-6, equal_nan=True
    )
    for a, b in zip(got["step_rewards"], want["step_rewards"], strict=True):
        assert (a is None) == (b is None)
        if a is not None:
            assert len(a) == len(b) and np.allclose(a, b, atol=1e-6)
