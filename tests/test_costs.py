"""The cost models: Wu et al.'s published figures (paper), Brown et al.'s definition (full),
measured GPU-seconds, dollars from a price table, parsing; ``kinetics`` is in test_kinetics.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scaling.costs import Usage, Workload, cost_model
from scaling.errors import ScalingError


def flops_per_problem(
    manifest, prompt, completion, k, accounting="paper", scored=None, completion_sq=None
):
    """The cost of k samples per problem (arrays over problems) under ``accounting``; ``scored``
    samples are read by the reward model."""
    completion = np.atleast_1d(np.asarray(completion, dtype=float))
    shape = np.broadcast_shapes(np.shape(prompt), completion.shape, np.shape(k))
    completion = np.broadcast_to(completion, shape or (1,))
    square = completion**2 if completion_sq is None else completion_sq
    work = Workload(
        prompt=np.broadcast_to(np.asarray(prompt, dtype=float), completion.shape),
        completion=completion,
        completion_sq=np.broadcast_to(np.asarray(square, dtype=float), completion.shape),
        greedy_completion=completion,
    )
    samples = np.broadcast_to(np.asarray(k, dtype=float), completion.shape)[:, None]
    scored = np.zeros_like(samples) if scored is None else np.full_like(samples, scored)
    got = cost_model(accounting).cost(manifest, work, Usage(samples, scored))[:, 0]
    return got if shape else got[0]


def search_flops_per_problem(manifest, search_tokens, search_rm_tokens=None, accounting="paper"):
    work = Workload(
        *(np.zeros(1),) * 4,
        search_tokens=np.atleast_1d(float(search_tokens)),
        search_rm_tokens=None if search_rm_tokens is None else np.atleast_1d(search_rm_tokens),
    )
    return cost_model(accounting).search_cost(manifest, work)[0]


LLEMMA_7B = {"model": {"name": "llemma-7b", "params": 6.74e9, "n_layers": 32, "d_model": 4096}}
LLEMMA_34B = {"model": {"name": "llemma-34b", "params": 33.7e9}}


def test_paper_reproduces_wu_et_al_table_4():
    # greedy: 3.92e12 FLOPs per problem = 2 N tokens, so the greedy solutions averaged
    tokens = 3.92e12 / (2 * 6.74e9)
    assert tokens == pytest.approx(290.8, abs=0.05)
    assert flops_per_problem(LLEMMA_7B, 0, 290.8, 1) == pytest.approx(3.92e12, rel=1e-3)
    # sampling costs k times the greedy cost: k = 32 -> 125.4e12 (Table 4)
    assert flops_per_problem(LLEMMA_7B, 0, tokens, 32) == pytest.approx(125.4e12, rel=1e-3)
    # Llemma-34B: greedy 19.0e12 and k = 8 sampling 152.3e12 from one token count
    tokens_34b = 19.0e12 / (2 * 33.7e9)
    assert flops_per_problem(LLEMMA_34B, 0, tokens_34b, 8) == pytest.approx(152.3e12, rel=2e-3)


def test_paper_counts_neither_prompt_nor_reward_model():
    with_rm = dict(LLEMMA_7B, reward_model={"params": 7e9})
    a = flops_per_problem(LLEMMA_7B, 500, 300, 4)
    b = flops_per_problem(with_rm, 10, 300, 4, scored=4)
    assert a == b == 2 * 6.74e9 * 300 * 4


def per_token(n, layers, width, context):
    """Brown et al. (Large Language Monkeys): FLOPs per token at context length L."""
    return 2 * (n + 2 * layers * width * context)


def test_full_is_brown_et_al_summed_token_by_token():
    n, layers, width = 6.74e9, 32, 4096
    prompt, completion, k = 200, 300, 8
    prefill = sum(per_token(n, layers, width, i) for i in range(1, prompt + 1))
    decode = sum(per_token(n, layers, width, prompt + i) for i in range(1, completion + 1))
    rm_params, scored = 7e9, k * (prompt + completion)
    manifest = dict(LLEMMA_7B, reward_model={"params": rm_params})
    want = prefill + k * decode + 2 * rm_params * scored
    got = flops_per_problem(manifest, prompt, completion, k, accounting="full", scored=k)
    assert got == pytest.approx(want, rel=1e-12)
    # by hand for a toy model: N = 10, 1 layer, d = 2, P = 2, C = 1, k = 1:
    # prefill 2(10 + 4*1) + 2(10 + 4*2) = 28 + 36; decode 2(10 + 4*3) = 44
    toy = {"model": {"params": 10, "n_layers": 1, "d_model": 2}}
    assert flops_per_problem(toy, 2, 1, 1, accounting="full") == 28 + 36 + 44


def test_full_uses_the_mean_square_length_for_unequal_samples():
    n, layers, width = 1e9, 4, 256
    manifest = {"model": {"params": n, "n_layers": layers, "d_model": width}}
    lengths = np.array([10, 50, 90])
    prompt = 30
    each = [sum(per_token(n, layers, width, prompt + i) for i in range(1, c + 1)) for c in lengths]
    prefill = sum(per_token(n, layers, width, i) for i in range(1, prompt + 1))
    got = flops_per_problem(
        manifest, prompt, lengths.mean(), 3, accounting="full", completion_sq=(lengths**2).mean()
    )
    assert got == pytest.approx(prefill + sum(each), rel=1e-12)


def test_vectorized_over_problems():
    got = flops_per_problem(LLEMMA_7B, np.array([1, 2]), np.array([100.0, 200.0]), np.array([1, 4]))
    np.testing.assert_allclose(got, [2 * 6.74e9 * 100, 2 * 6.74e9 * 800])


def test_search_runs_are_priced_by_their_expansions():
    # Llemma-7B REBASE at width 32: 148.0e12 FLOPs per problem (Wu et al. Table 4)
    tokens = 148.0e12 / (2 * 6.74e9)
    assert search_flops_per_problem(LLEMMA_7B, tokens) == pytest.approx(148.0e12, rel=1e-12)
    manifest = dict(LLEMMA_7B, reward_model={"params": 7e9})
    full = search_flops_per_problem(manifest, 1000, 4000, accounting="full")
    assert full == 2 * 6.74e9 * 1000 + 2 * 7e9 * 4000
    assert search_flops_per_problem(manifest, 1000, 4000) == 2 * 6.74e9 * 1000


def test_missing_fields_are_named():
    # llemma-34b's layers and width come from the known-model table (48 x 8192) ...
    got = flops_per_problem(LLEMMA_34B, 10, 10, 1, accounting="full")
    manifest = {"model": {"params": 33.7e9, "n_layers": 48, "d_model": 8192}}
    assert got == flops_per_problem(manifest, 10, 10, 1, accounting="full")
    # ... an unknown model's are named, with the flags that set them
    unknown = {"model": {"name": "my-model", "params": 1e9}}
    with pytest.raises(ScalingError, match="model.n_layers, model.d_model unknown .* --n-layers"):
        flops_per_problem(unknown, 10, 10, 1, accounting="full")
    with pytest.raises(ScalingError, match="model.params"):
        flops_per_problem({"model": {"params": None}}, 10, 10, 1)
    with pytest.raises(ScalingError, match="reward_model.params"):
        flops_per_problem(LLEMMA_7B, 10, 10, 1, accounting="full", scored=5)
    with pytest.raises(ScalingError, match="cost='exact'"):
        flops_per_problem(LLEMMA_7B, 10, 10, 1, accounting="exact")


# -- parameterised cost models ---------------------------------------------------------------------


def test_cost_models_are_parsed_like_strategies():
    from scaling.costs import parse_costs
    from scaling.errors import ArgumentError

    paper, kinetics = parse_costs("paper,kinetics:intensity=300")
    assert (paper.key, kinetics.key, kinetics.intensity) == ("paper", "kinetics:intensity=300", 300)
    assert cost_model("kinetics").key == "kinetics" and cost_model("kinetics").unit == "eFLOPs"
    assert [m.key for m in parse_costs("paper,kinetics", intensity=100.0)] == [
        "paper",
        "kinetics:intensity=100",
    ]
    with pytest.raises(ArgumentError, match="intensity=3.0: cost model paper, full has no param"):
        parse_costs("paper,full", intensity=3.0)
    with pytest.raises(ArgumentError, match="kinetics has no parameter 'speed'"):
        cost_model("kinetics:speed=1")
    with pytest.raises(ArgumentError, match="intensity must be a positive number"):
        cost_model("kinetics:intensity=0")
    with pytest.raises(ArgumentError, match="set prices: usd:prices=VALUE"):
        cost_model("usd")
    with pytest.raises(ArgumentError, match="name one cost model"):
        cost_model("paper,full")


def test_cli_intensity_and_cost_errors(tmp_path):
    from test_simulate import cli, make_run, toy_samples

    model = {"name": "toy-1b", "params": 1e9, "n_layers": 4, "n_heads": 4, "n_kv_heads": 2}
    run = make_run(tmp_path / "toy", toy_samples(), model=model | {"head_dim": 16, "dtype": "bf16"})
    bad = cli(str(run.path), "--cost", "paper", "--intensity", "300")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert (
        bad.stderr.strip()
        == "error: --intensity 300.0: cost model paper has no parameter intensity"
    )
    several = cli(str(run.path), "--cost", "paper,full")
    assert several.returncode == 2 and "name one cost model" in several.stderr
    dtype = cli(str(run.path), "--cost", "kinetics", "--intensity", "300", "--format", "csv")
    assert dtype.returncode == 0 and "model.dtype 'bf16' unknown" in dtype.stderr


# -- gpu_seconds -----------------------------------------------------------------------------------

COLLECTED = {
    "model": {"name": "toy", "params": 1e9},
    "tokens": {"source": "measured", "total_completion_tokens": 4000},
    "extra": {"collect": {"wall_s": 60.0, "gpu_s": 120.0}},
}


def test_gpu_seconds_attributes_measured_time_per_generated_token():
    # 120 GPU-seconds over 4000 generated tokens: 0.03 s per token; 4 samples of 250 tokens
    got = flops_per_problem(COLLECTED, 100, 250, 4, accounting="gpu_seconds")
    assert got == pytest.approx(0.03 * 250 * 4)
    work = Workload(*(np.zeros(1),) * 4, search_tokens=np.array([500.0]))
    assert cost_model("gpu_seconds").search_cost(COLLECTED, work)[0] == pytest.approx(15.0)


def test_gpu_seconds_without_timings_names_the_field():
    imported = {"model": {"name": "toy", "params": 1e9}, "tokens": {"source": "mean"}}
    with pytest.raises(ScalingError, match=r"^run.json: extra.collect.gpu_s unknown or 0 .*"):
        flops_per_problem(imported, 10, 10, 1, accounting="gpu_seconds")
    cpu = dict(COLLECTED, extra={"collect": {"wall_s": 60.0, "gpu_s": 0.0}})
    with pytest.raises(ScalingError, match="extra.collect.gpu_s unknown or 0"):
        flops_per_problem(cpu, 10, 10, 1, accounting="gpu_seconds")
    untotalled = dict(COLLECTED, tokens={"source": "measured"})
    with pytest.raises(ScalingError, match="tokens.total_completion_tokens unknown"):
        flops_per_problem(untotalled, 10, 10, 1, accounting="gpu_seconds")


# -- usd -------------------------------------------------------------------------------------------

PRICES = """
[models."meta-llama/Meta-Llama-3-8B-Instruct"]
input_per_mtok = 0.2
output_per_mtok = 0.6

[models."my-rm"]
input_per_mtok = 1.0
output_per_mtok = 0.0

[gpu]
per_hour = 3.6
"""


@pytest.fixture
def prices(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text(PRICES)
    return f"usd:prices={path}"


def test_usd_per_token_by_hand(prices):
    llama = {"model": {"name": "llama-3-8b-instruct"}, "reward_model": {"name": "My_RM"}}
    # 3 samples of 200 prompt + 100 completion tokens, 2 of them scored by the reward model:
    # 3 (200 x 0.2 + 100 x 0.6) / 1e6 + 2 (200 + 100) x 1.0 / 1e6
    want = (3 * (200 * 0.2 + 100 * 0.6) + 2 * 300 * 1.0) / 1e6
    assert flops_per_problem(llama, 200, 100, 3, prices, scored=2) == pytest.approx(want)
    work = Workload(
        *(np.zeros(1),) * 4, search_tokens=np.array([1000.0]), search_rm_tokens=np.array([50.0])
    )
    search = cost_model(prices).search_cost(llama, work)[0]
    assert search == pytest.approx((1000 * 0.6 + 50 * 1.0) / 1e6)


def test_usd_per_gpu_hour_uses_the_measured_time(prices):
    # no token prices for "toy": $3.6 per GPU-hour = $0.001 per GPU-second, 0.03 s per token
    got = flops_per_problem(COLLECTED, 100, 250, 4, prices)
    assert got == pytest.approx(0.001 * 0.03 * 250 * 4)


def test_usd_errors_name_the_file_and_the_fix(prices, tmp_path):
    path = prices.split("=", 1)[1]
    unpriced = {"model": {"name": "phi-4"}, "tokens": {"source": "mean"}}
    with pytest.raises(ScalingError, match=f"^{path}: no token price for model 'phi-4' and no"):
        flops_per_problem(unpriced, 10, 10, 1, prices)
    no_rm = {"model": {"name": "llama-3-8b-instruct"}, "reward_model": {"name": "other"}}
    with pytest.raises(ScalingError, match="no price for reward model 'other'"):
        flops_per_problem(no_rm, 10, 10, 2, prices, scored=1)
    bad = tmp_path / "bad.toml"
    for text, message in [
        ("[models.x]\ninput_per_mtok = 1\n", "must set exactly input_per_mtok and output"),
        ("[gpu]\nper_hour = -1\n", "gpu.per_hour = -1: give a non-negative number"),
        ("[price]\n", "unknown table 'price'"),
        ("[gpu\n", "not valid TOML"),
        ("", "no prices"),
    ]:
        bad.write_text(text)
        with pytest.raises(ScalingError, match=message):
            cost_model(f"usd:prices={bad}")
    with pytest.raises(ScalingError, match="nowhere.toml: cannot read it"):
        cost_model(f"usd:prices={tmp_path / 'nowhere.toml'}")


def test_the_documented_price_example_is_valid():
    from scaling.costs.usd import load_prices

    table = load_prices(Path(__file__).resolve().parents[1] / "docs" / "prices.toml")
    assert table.tokens["phi-4"] == (0.10, 0.30) and table.per_hour == 2.50


# -- paper and full on the embedded data -----------------------------------------------------------


def test_paper_and_full_unchanged_on_the_embedded_data():
    """Costs per problem of phi-4 (Mock AIME: 182.2 prompt and 1154.89 completion tokens per
    sample, 14.7e9 parameters, 40 layers of width 5120) as the accounting defines them."""
    from scaling.paths import data_dir
    from scaling.simulate import simulate

    run = data_dir() / "runs" / "mock-aime" / "phi-4"
    p, c, n = 182.2, 1154.8916666666667, 14.7e9
    for accounting in ("paper", "full"):
        table = simulate([run], ["majority"], [1, 16], bootstrap=0, cost=accounting).table
        got = table.set_index("k")["cost"]
        for k in (1, 16):
            want = flops_per_problem(
                {"model": {"params": n, "n_layers": 40, "d_model": 5120}}, p, c, k, accounting
            )
            assert got[k] == pytest.approx(want, rel=1e-12)
    assert got[1] == pytest.approx(
        2 * n * p + 2 * 40 * 5120 * p * (p + 1)
        + 2 * n * c + 4 * 40 * 5120 * (c * p + (c * c + c) / 2),
        rel=1e-12,
    )  # fmt: skip
