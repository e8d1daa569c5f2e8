#!/usr/bin/env bash
# Executes notebooks headless and exports each as self-contained HTML.
# Usage: scripts/run_notebooks.sh OUT_DIR NN [NN ...]   (NN = notebook number, e.g. 01)
# The notebooks read GANAD_PROFILE, GANAD_CLASS and GANAD_RESULTS (where they write JSON).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANAD_ROOT"
out=$(realpath -m "$1"); shift
mkdir -p "$out"
export GANAD_RESULTS="$out" GANAD_HEADLESS=1
for n in "$@"; do
  nb=$(ls notebooks/"$n"-*.ipynb)
  t0=$SECONDS
  echo "== $nb (profile ${GANAD_PROFILE:-default})"
  jupyter nbconvert --to html --execute \
    --ExecutePreprocessor.kernel_name="$GANAD_KERNEL" \
    --ExecutePreprocessor.timeout=5400 \
    --output-dir "$out" "$nb"
  html="$out/$(basename "${nb%.ipynb}").html"
  # evcxr shows a failed cell's compile error as output while the cell still counts as ok.
  if grep -q 'class="output_subarea output_stream output_stderr' "$html" && grep -qE 'error(\[E[0-9]+\])?:' "$html"; then
    echo "error output in $html" >&2
    exit 1
  fi
  echo "   $html ($((SECONDS - t0)) s)"
done
