#!/usr/bin/env bash
# GPU timing with the prebuilt binary: builds nothing, links the machine's own torch/lib.
# On a CUDA machine with torch 2.11.0 installed for python3, from the repo root:
#   GANAD_DATA_DIR=<dir with the four Fashion-MNIST files> scripts/gpu_check.sh [OUT_DIR]
# Prints `ganad doctor`, then times one training epoch (default profile) and one whole class in
# the `full` profile (class 0) on cuda:0, and writes both runs and gpu-check.json (device, times,
# AUROC) under OUT_DIR (default /tmp/ganad-gpu), to be committed as results/gpu-*.json.
set -euo pipefail
out=${1:-/tmp/ganad-gpu}
torch_lib=$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bin=target/release/ganad
[ -x "$bin" ] || { echo "no $bin: build it on the CPU machine first (make setup) and carry it" >&2; exit 1; }
"$bin" doctor
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
rm -rf "$out"; mkdir -p "$out"
t0=$(date +%s.%N)
"$bin" train --normal-class 0 --profile default --epochs 1 --device cuda --out "$out/one-epoch"
t1=$(date +%s.%N)
"$bin" train --normal-class 0 --profile full --device cuda --out "$out/class0"
t2=$(date +%s.%N)
python3 - "$out" "$t0" "$t1" "$t2" <<'PY'
import json, sys
out, t0, t1, t2 = sys.argv[1], *map(float, sys.argv[2:])
summary = {}
for name, wall in [("one-epoch", t1 - t0), ("class0", t2 - t1)]:
    r = json.load(open(f"{out}/{name}/run.json"))
    summary[name] = {"wall_s": wall, "train_s": r["timings"]["train_s"], "test_auroc": r["evaluation"]["test"]["auroc"],
                     "device": r["device"], "profile": r["profile"], "commit": r["provenance"]["commit"]}
    print(f"{name}: wall {wall:.1f} s, train {r['timings']['train_s']:.1f} s, test AUROC {r['evaluation']['test']['auroc']:.5f}, device {r['device']}")
json.dump(summary, open(f"{out}/gpu-check.json", "w"), indent=2)
PY
