"""Unit tests of collection's parts that need no model: problem sets, prompts, seeds, planning,
nucleus filtering, reward helpers and config checks."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_models import build_tokenizer

from collect.backends.base import Sampling, Unit, sample_seed
from collect.backends.hf import top_p_filter
from collect.datasets import gsm8k_reference, load_problems
from collect.prompts import (
    DEFAULT_SYSTEM,
    FEW_SHOT_STOP,
    build_template,
    encode_prompt,
    prompt_hash,
)
from collect.rewards import split_steps, to_probability
from collect.runner import CollectConfig, plan_units
from scaling.errors import ScalingError

# -- problem sets ----------------------------------------------------------------------------------


def test_gsm8k_reference_takes_the_final_line():
    assert gsm8k_reference("so 3 + 4 = 7\n#### 7") == "7"
    assert gsm8k_reference("big\n#### 114,200") == "114200"
    with pytest.raises(ScalingError, match="####"):
        gsm8k_reference("no final line")


def test_bundled_problem_sets():
    math = load_problems("math500")
    assert len(math) == 500 and math.name == "math500"
    assert math.frame["problem_id"].iloc[0] == "test/precalculus/807.json"
    assert math.frame["level"].between(1, 5).all()
    gsm = load_problems("gsm8k", limit=3)
    assert list(gsm.frame["problem_id"]) == ["gsm8k/test/0", "gsm8k/test/1", "gsm8k/test/2"]
    assert gsm.frame["answer"].iloc[0] == "18"
    assert gsm.frame["level"].isna().all()
    assert "MIT" in gsm.provenance["license"]


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_problem_file_fields_ids_levels_and_subsets(tmp_path):
    rows = [
        {"unique_id": f"p{i}", "problem": f"q{i}", "solution": str(i), "level": f"Level {i % 5}"}
        for i in range(6)
    ]
    path = _write_jsonl(tmp_path / "set.jsonl", rows)
    problems = load_problems(str(path), answer_field="solution")
    assert problems.name == "set"
    assert list(problems.frame.columns) == ["problem_id", "question", "answer", "level"]
    assert problems.frame["question"].tolist() == [f"q{i}" for i in range(6)]
    assert problems.frame["level"].tolist() == [0, 1, 2, 3, 4, 0]
    subset = load_problems(str(path), answer_field="solution", problems=["p4", "p1"], limit=1)
    assert subset.frame["problem_id"].tolist() == ["p1"]
    parquet = tmp_path / "set.parquet"
    pd.DataFrame(rows).to_parquet(parquet)
    again = load_problems(str(parquet), answer_field="solution")
    pd.testing.assert_frame_equal(again.frame, problems.frame)


@pytest.mark.parametrize(
    ("rows", "kwargs", "message"),
    [
        ([{"question": "q"}], {}, "no answer field"),
        ([{"question": "q", "answer": "1"}], {"question_field": "text"}, "no field 'text'"),
        ([{"question": "q", "answer": ""}], {}, "row 1 has an empty"),
        ([{"id": 1, "question": "q", "answer": "1"}] * 2, {}, "occurs twice"),
        ([{"question": "q", "answer": "1"}], {"problems": ["zzz"]}, "not in"),
        ([{"question": "q", "answer": "1"}], {"limit": 0}, "--limit"),
    ],
)
def test_problem_file_errors(tmp_path, rows, kwargs, message):
    path = _write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(ScalingError, match=message):
        load_problems(str(path), **kwargs)


def test_unknown_dataset_and_bad_json(tmp_path):
    with pytest.raises(ScalingError, match="not a bundled problem set"):
        load_problems(str(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": "1"}\n{oops\n')
    with pytest.raises(ScalingError, match="line 2 is not valid JSON"):
        load_problems(str(bad))


# -- prompts ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory):
    root = tmp_path_factory.mktemp("tokenizers")
    return build_tokenizer(root / "chat"), build_tokenizer(root / "plain", chat=False)


def test_chat_template_prompt(tokenizers):
    chat, _ = tokenizers
    template = build_template(chat)
    prompt = template.render("What is 1 + 2?")
    assert template.kind == "chat" and template.stop == ()
    assert prompt.startswith("<s><|system|>" + DEFAULT_SYSTEM)
    assert prompt.endswith("<|user|>What is 1 + 2?\n<|assistant|>")
    assert encode_prompt(chat, prompt)[0] == chat.bos_token_id
    assert encode_prompt(chat, prompt).count(chat.bos_token_id) == 1


def test_few_shot_prompt_without_chat_template(tokenizers):
    _, plain = tokenizers
    template = build_template(plain)
    prompt = template.render("What is 1 + 2?")
    assert template.kind == "few-shot" and template.stop == FEW_SHOT_STOP
    assert "\\boxed{12}" in prompt and "\\boxed{15}" in prompt
    assert prompt.endswith("Problem: What is 1 + 2?\nSolution:")


def test_server_side_chat_template_without_tokenizer():
    template = build_template(None)
    assert template.render("Q?") == [
        {"role": "system", "content": DEFAULT_SYSTEM},
        {"role": "user", "content": "Q?"},
    ]


def test_prompt_files(tmp_path, tokenizers):
    chat, plain = tokenizers
    text = tmp_path / "p.txt"
    text.write_text("Answer in \\boxed{}: {question}\n")
    assert build_template(chat, prompt_file=text).render("Q") == "Answer in \\boxed{}: Q\n"
    spec = tmp_path / "p.json"
    spec.write_text(
        json.dumps({"messages": [{"role": "user", "content": "Do {question}"}], "stop": ["##"]})
    )
    template = build_template(chat, prompt_file=spec)
    assert template.stop == ("##",)
    assert template.render("Q") == "<s><|user|>Do Q\n<|assistant|>"
    with pytest.raises(ScalingError, match="chat template"):
        build_template(plain, prompt_file=spec)
    bad = tmp_path / "bad.txt"
    bad.write_text("no placeholder")
    with pytest.raises(ScalingError, match="placeholder"):
        build_template(chat, prompt_file=bad)
    worse = tmp_path / "bad.json"
    worse.write_text(json.dumps({"text": "{question}", "stop": "x"}))
    with pytest.raises(ScalingError, match="'stop' must be a list"):
        build_template(chat, prompt_file=worse)


def test_prompt_hash_tracks_every_prompt():
    assert prompt_hash(["a", "b"]) == prompt_hash(["a", "b"])
    assert prompt_hash(["a", "b"]) != prompt_hash(["a", "c"])
    assert prompt_hash(["a", "b"]) != prompt_hash(["b", "a"])
    assert len(prompt_hash([[{"role": "user", "content": "x"}]])) == 16


# -- seeds and planning ---------------------------------------------------------------------------


def test_sample_seeds_are_distinct_stable_and_extend():
    seeds = [sample_seed(0, "p", i) for i in range(256)]
    assert len(set(seeds)) == 256
    assert seeds[:64] == [sample_seed(0, "p", i) for i in range(64)]
    assert sample_seed(0, "p", 0) != sample_seed(0, "q", 0)
    assert sample_seed(0, "p", 0) != sample_seed(1, "p", 0)
    assert all(0 <= s < 2**32 for s in seeds)


def test_plan_units_cuts_aligned_blocks_of_missing_samples():
    problems = pd.DataFrame({"problem_id": ["a", "b"], "question": ["qa", "qb"]})
    existing = {("a", False, 0), ("a", False, 1), ("a", False, 2), ("a", False, 3), ("b", True, 0)}
    greedy, sampled = plan_units(
        problems, ["PA", "PB"], 10, seed=7, block=4, greedy=True, existing=existing
    )
    assert [(u.problem_id, u.sample_idx) for u in greedy] == [("a", (0,))]
    assert greedy[0].greedy and greedy[0].seeds == (sample_seed(7, "a", 0),)
    assert [(u.problem_id, u.sample_idx) for u in sampled] == [
        ("a", (4, 5, 6, 7)),
        ("a", (8, 9)),
        ("b", (0, 1, 2, 3)),
        ("b", (4, 5, 6, 7)),
        ("b", (8, 9)),
    ]
    assert sampled[0].prompt == "PA" and sampled[2].prompt == "PB"
    assert sampled[0].seeds == tuple(sample_seed(7, "a", i) for i in (4, 5, 6, 7))
    assert len(Unit("x", "p", (1, 2), (3, 4))) == 2


# -- decoding and rewards -------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 10.0), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
    st.floats(0.05, 0.99),
)
def test_top_p_keeps_the_smallest_nucleus(weights, top_p):
    probs = torch.tensor(weights, dtype=torch.float64)
    probs = probs / probs.sum()
    assert torch.equal(top_p_filter(probs, 1.0), probs)
    kept = top_p_filter(probs, top_p)
    mask = kept > 0
    assert torch.equal(kept[mask], probs[mask])
    assert probs[mask].sum() >= top_p - 1e-12
    order = torch.sort(probs, descending=True, stable=True).indices
    n = int(mask.sum())
    assert set(order[:n].tolist()) == set(torch.nonzero(mask).flatten().tolist())
    if n > 1:
        assert probs[order[: n - 1]].sum() < top_p


def test_greedy_sampling_settings():
    assert Sampling(0.8, 0.9, 10).greedy() == Sampling(0.0, 1.0, 10)


def test_split_steps_at_blank_lines():
    assert split_steps("a\n\nb\n \n\nc\n") == ["a", "b", "c"]
    assert split_steps("one line\nsecond line") == ["one line\nsecond line"]
    assert split_steps("  \n\n ") == []


def test_to_probability():
    logits = torch.tensor([[0.0, 0.0], [0.0, 2.0]])
    assert to_probability(logits) == pytest.approx([0.5, 1 / (1 + torch.e**-2)])
    assert to_probability(torch.tensor([[0.0]])) == [0.5]
    assert to_probability(torch.tensor([3.0])) == pytest.approx([1 / (1 + torch.e**-3)])
    with pytest.raises(ScalingError, match="3 labels"):
        to_probability(torch.zeros(2, 3))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("samples", 0, "--samples"),
        ("temperature", 0.0, "--greedy"),
        ("top_p", 1.5, "--top-p"),
        ("max_tokens", 0, "--max-tokens"),
        ("backend", "tgi", "--backend"),
    ],
)
def test_config_checks(field, value, message):
    config = CollectConfig(model="m", dataset="d", samples=4, out="o")
    setattr(config, field, value)
    with pytest.raises(ScalingError, match=message):
        config.check()


def test_the_backend_registry_names_one_module_per_engine():
    from collect.backends import BACKENDS, Backend, backend_class

    for name in BACKENDS:
        cls = backend_class(name)
        assert issubclass(cls, Backend) and cls.name == name
    assert not backend_class("ray").searches and not backend_class("openai").needs_tokenizer
    assert backend_class("vllm").searches and backend_class("hf").needs_tokenizer
    with pytest.raises(ScalingError, match="choose one of vllm, hf, openai, ray"):
        backend_class("sglang")


def test_the_model_block_records_the_attention_shape():
    """Layers, width, heads, KV heads and head dimension: what memory-aware costs read."""
    from transformers import LlamaConfig

    from collect.models import describe_model

    config = LlamaConfig(
        hidden_size=256, num_attention_heads=4, num_key_value_heads=2, num_hidden_layers=3
    )
    block = describe_model("toy", config)
    assert (block["n_layers"], block["d_model"]) == (3, 256)
    assert (block["n_heads"], block["n_kv_heads"], block["head_dim"]) == (4, 2, 64)
    assert describe_model("served-model")["n_heads"] is None  # no config: unknown


def test_a_missing_optional_dependency_is_one_line_naming_the_extra(monkeypatch, tmp_path, capsys):
    """Without transformers a served model still collects (no tokenizer); a local one gets the
    one-line error naming the extra, exit status 2."""
    import sys

    from collect.models import load_tokenizer
    from scaling.cli import main

    monkeypatch.setitem(sys.modules, "transformers", None)
    assert load_tokenizer("any", required=False) is None
    out = tmp_path / "run"
    args = ["collect", "--model", "x", "--dataset", "gsm8k", "--limit", "1", "--samples", "1"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--backend", "hf", "--out", str(out)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert (
        err == "error: this needs transformers, which is not installed: pip install 'scaling[hf]'\n"
    )
