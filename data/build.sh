#!/usr/bin/env bash
# Rebuild the embedded data (data/runs/ and data/problems/) from the shared raw data.
#
#   data/build.sh [RAW]      RAW defaults to ../shared/data (beside the repository)
#
# Deterministic: the same raw files give byte-identical runs (no timestamps, no absolute paths).
# Runs are built in data/.runs.new and swapped in only when every import has succeeded.
set -euo pipefail
cd "$(dirname "$0")"
RAW="$(cd "${1:-../../shared/data}" && pwd)"
SCALING=(python -m scaling)
NEW=.runs.new
rm -rf "$NEW"

# Large Language Monkeys: Pythia x 7 sizes on 128 MATH problems, 10,000 samples each (counts only).
LLMONK_CITE="Brown et al. 2024, Large Language Monkeys: Scaling Inference Compute with Repeated Sampling, arXiv:2407.21787"
for size in 70M 160M 410M 1B 2.8B 6.9B 12B; do
  "${SCALING[@]}" import counts "$RAW/samples/llmonk_pythia_math_counts.csv" \
    --out "$NEW/pythia/$(echo "$size" | tr 'A-Z' 'a-z')" --model "Pythia $size" \
    --problem-set "MATH (128 test problems, Large Language Monkeys)" \
    --temperature 0.6 --max-tokens 512 \
    --tokens-per-sample 512 --tokens-note "512 is the cap on new tokens: an upper bound" \
    --citation "$LLMONK_CITE" \
    --license "not stated; counts from RylanSchaeffer/KoyejoLab-Large-How-Do-Language-Monkey-Power-Get-Their-Power"
done

# Epoch AI Benchmarking Hub: OTIS Mock AIME 2024-2025, 45 problems x 16 samples, 11 models.
for dir in "$RAW"/samples/otis_mock_aime/*/; do
  model="$(basename "$dir")"
  "${SCALING[@]}" import inspect "$dir" --out "$NEW/mock-aime/$model" --model "$model" \
    --citation "Epoch AI, 'AI Benchmarking Hub', epoch.ai/benchmarks" --license "CC BY 4.0"
done

# Qwen2.5-Math evaluation example: 100 MATH problems x 8 samples with outcome-reward scores.
"${SCALING[@]}" import qwen-eval "$RAW/samples/qwen25_math_cot100.jsonl" \
  --out "$NEW/qwen25-math-cot100" \
  --citation "QwenLM/Qwen2.5-Math, evaluation/data/eval_rm_maj_example/math_cot_100.jsonl" \
  --license "MIT, (c) 2024 Zhibin Gou"

"${SCALING[@]}" verify "$NEW" > /dev/null
rm -rf runs && mv "$NEW" runs

# Problem sets bundled for `scaling collect` (byte-identical copies).
mkdir -p problems
cp "$RAW/problems/gsm8k_test.jsonl" "$RAW/problems/math500_test.jsonl" problems/
du -sh runs problems
