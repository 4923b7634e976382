"""The ``kinetics`` cost model: Kinetics' published numbers reproduced, and a hand computation.

Reference: Infini-AI-Lab/Kinetics, ``cost_model/utils.py`` (``dense_cost``, ``expected_cost``)
run by ``cost_model/best_of_N/cost_model_ntrial.py`` (E_flops = 562.5; Qwen3 sizes 0.752, 8.19
and 32.76 billion parameters; heads, KV heads and head_dim from the Qwen3 configs), published as
``cost_model/aime24/dense/aime24_qwen3-{0-6b,8b,32b}_dense_numTrials_tradeoff.csv``. Their
columns ``compute_cost`` and ``memory_cost`` are in units of 1e12 (eFLOPs); the query below is
query_id 0 of AIME24 (answer 236), whose per-trial generation lengths the CSVs list. Its prompt
length (155 tokens under the Qwen3 chat template) is not in the CSVs: it solves the 0.6B
compute cost at one trial, and then reproduces every other number of the three files.
"""

from __future__ import annotations

import numpy as np
import pytest

from scaling.costs import Usage, Workload, cost_model
from scaling.errors import ScalingError

PROMPT = 155
# generation_length of query_id 0 in each CSV
LENGTHS = {
    "0.6b": [13063, 22187, 16921, 9094, 11544, 10371, 14211, 24453, 10036, 12559, 20283,
             6202, 9079, 10744, 30767, 7852, 12486, 17052, 14432, 11699, 3822, 16273, 14984,
             20838, 6687, 12773, 11685, 12518, 6197, 8365, 7970, 22637],
    "8b": [8253, 12777, 8502, 11134, 10950, 9364, 13403, 14893, 10085, 10553, 29481, 19360,
           10311, 15844, 17722, 30719, 10485, 13003, 25976, 10114, 15756, 12063, 24963, 9307,
           12267, 12365, 13096, 11417, 10001, 4870, 19562, 16167],
    "32b": [10846, 9254, 11833, 6495, 8571, 10747, 10485, 9014],
}  # fmt: skip
# Qwen3 configs: layers, attention heads, KV heads, head_dim; parameters as Kinetics counts them
QWEN3 = {
    "0.6b": (0.752e9, 28, 16, 8, 128),
    "8b": (8.19e9, 36, 32, 8, 128),
    "32b": (32.76e9, 64, 64, 8, 128),
}
# (size, trials): (compute_cost, memory_cost) of query_id 0, x 1e12
PUBLISHED = {
    ("0.6b", 1): (45.41593152256, 7092.02349072),
    ("0.6b", 2): (90.83186304512, 14049.748077119999),
    ("0.6b", 32): (1453.30980872192, 222781.48566912),
    ("8b", 1): (304.50358475517595, 10085.874487056),
    ("8b", 4): (1218.0143390207038, 39795.381199584),
    ("8b", 32): (9744.11471216563, 317084.11051651195),
    ("32b", 1): (736.1271433578238, 7276.682345472),
    ("32b", 8): (5889.01714686259, 56668.657637376),
}


def manifest(size: str, dtype: str = "bfloat16") -> dict:
    params, layers, heads, kv_heads, head_dim = QWEN3[size]
    model = {"name": f"qwen3-{size}", "params": params, "n_layers": layers, "n_heads": heads}
    return {"model": model | {"n_kv_heads": kv_heads, "head_dim": head_dim, "dtype": dtype}}


def workload(lengths, prompt=PROMPT) -> Workload:
    c = np.asarray(lengths, dtype=float)
    mean, square = np.array([c.mean()]), np.array([(c * c).mean()])
    return Workload(np.array([float(prompt)]), mean, square, mean)


def price(model, man, work, k) -> float:
    return float(model.cost(man, work, Usage(np.array([[float(k)]]), np.zeros((1, 1))))[0, 0])


@pytest.mark.parametrize(("size", "trials"), list(PUBLISHED))
def test_reproduces_kinetics_dense_cost(size, trials):
    compute, memory = PUBLISHED[(size, trials)]
    man, work = manifest(size), workload(LENGTHS[size])
    # intensity 0 leaves the compute; the memory term is the rest at Kinetics' 562.5
    got_compute = price(cost_model("kinetics:intensity=1e-300"), man, work, trials)
    got_total = price(cost_model("kinetics"), man, work, trials)
    assert got_compute / 1e12 == pytest.approx(compute, rel=1e-12)
    assert (got_total - got_compute) / 1e12 == pytest.approx(memory, rel=1e-12)


def test_a_hand_computation_token_by_token():
    # N = 10, one layer, H = 2 heads, H_kv = 1, d_h = 3, float32 (4 bytes), I = 5;
    # prompt P = 2, two samples of C = 2 tokens. Decoding the i-th token (context P + i) costs
    # 2 N + 4 H d_h (P + i) FLOPs and reads 2 b H_kv d_h bytes per context position; the
    # prompt's positions are read once per step for both samples, each sample reads its own.
    n, h, hkv, dh, b, intensity = 10, 2, 1, 3, 4, 5.0
    compute = traffic = 0.0
    for i in (1, 2):  # steps
        traffic += 2 * b * hkv * dh * 2  # the shared prompt, once per step
        for _sample in range(2):
            compute += 2 * n + 4 * h * dh * (2 + i)
            traffic += 2 * b * hkv * dh * i  # its own generated tokens
    # Kinetics integrates the generated context: sum_{i<=C} i = 3 becomes C^2 / 2 = 2, so
    # each sample has one position less, in its compute and in its traffic
    compute -= 2 * 4 * h * dh * 1
    traffic -= 2 * 2 * b * hkv * dh * 1
    man = {
        "model": {"name": "toy", "params": n, "n_layers": 1, "n_heads": h, "n_kv_heads": hkv}
        | {"head_dim": dh, "dtype": "float32"}
    }
    got = price(cost_model(f"kinetics:intensity={intensity}"), man, workload([2, 2], 2), 2)
    assert got == pytest.approx(compute + intensity * traffic, rel=1e-12)


def test_architecture_falls_back_to_the_known_model_table():
    model = cost_model("kinetics")
    man = {"model": {"name": "EleutherAI/pythia-1b", "params": 1_011_781_632}}
    work = workload([100, 300], 50)
    # pythia-1b: 16 layers, 8 heads of 256 (multi-head), float16
    d = 256 * 16
    c, c2 = 200.0, (100**2 + 300**2) / 2
    want = 3 * (2 * 1_011_781_632 * c + 2 * 8 * d * (2 * 50 * c + c2))
    want += 562.5 * 2 * 2 * 8 * d * (50 * c + 3 * c2 / 2)
    assert price(model, man, work, 3) == pytest.approx(want, rel=1e-12)
    (note,) = model.notes(man)
    assert "model.n_layers, model.n_heads, model.n_kv_heads, model.head_dim, model.dtype" in note
    assert "pythia-1b" in note and "known-model table" in note
    assert model.notes(manifest("8b")) == []


def test_missing_architecture_is_one_line_naming_the_fields_and_flags():
    man = {"model": {"name": "my-model", "params": 1e9, "n_layers": 4}}
    with pytest.raises(ScalingError) as e:
        price(cost_model("kinetics"), man, workload([10]), 1)
    message = str(e.value)
    assert "\n" not in message
    assert "model.n_heads, model.n_kv_heads, model.head_dim, model.dtype unknown" in message
    assert "--n-heads, --n-kv-heads, --head-dim, --dtype" in message
    with pytest.raises(ScalingError, match="model.dtype 'int3' unknown"):
        price(cost_model("kinetics"), manifest("8b", dtype="int3"), workload([10]), 1)
    with pytest.raises(ScalingError, match="tree search"):
        cost_model("kinetics").search_cost(manifest("8b"), workload([10]))
