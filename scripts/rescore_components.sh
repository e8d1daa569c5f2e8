#!/usr/bin/env bash
# Scores finished GAN runs again with each component of the fused score alone and with its
# label-free part (no head that learns from labelled anomalies), or with D_N's nearest normals
# joining the run's own score (plus-discriminator-nearest-normals), each into OUT_DIR as
# <run's name>-score-<variant>. Runs already there are kept; each source needs its checkpoint.
# Usage: scripts/rescore_components.sh OUT_DIR RUN_DIR [RUN_DIR ...]
#        VARIANTS="label-free rotation" scripts/rescore_components.sh …   (a subset)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANAD_ROOT"
none='"reconstruction": 0, "anomaly_head": 0, "nearest_normals": 0, "discriminator_head": 0, "rotation": 0, "discriminator_nearest_normals": 0'
declare -A score=(
  [reconstruction]="{$none, \"reconstruction\": 1}"
  [anomaly-head]="{$none, \"anomaly_head\": 1}"
  [nearest-normals]="{$none, \"nearest_normals\": 1}"
  [discriminator-head]="{$none, \"discriminator_head\": 1}"
  [rotation]="{$none, \"rotation\": 1}"
  [discriminator-nearest-normals]="{$none, \"discriminator_nearest_normals\": 1}"
  [label-free]='{"anomaly_head": 0, "discriminator_head": 0}'
  [plus-discriminator-nearest-normals]='{"discriminator_nearest_normals": 1}'
)
variants=${VARIANTS:-reconstruction anomaly-head nearest-normals discriminator-head rotation label-free}
out_dir=${1:?usage: scripts/rescore_components.sh OUT_DIR RUN_DIR [RUN_DIR ...]}; shift
for run in "$@"; do
  run=${run%/}
  for name in $variants; do
    [ -n "${score[$name]:-}" ] || { echo "unknown variant $name (known: ${!score[*]})" >&2; exit 2; }
    out="$out_dir/$(basename "$run")-score-$name"
    if [ -f "$out/run.json" ]; then echo "$out: kept"; continue; fi
    target/release/ganad rescore "$run" --score "${score[$name]}" --out "$out"
  done
done
