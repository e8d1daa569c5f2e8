#!/usr/bin/env bash
# Exploring in a notebook leaves the committed results alone: notebook 02 run headless the way
# JupyterLab runs it (GANAD_RESULTS unset) writes its run to the scratch directory runs/notebooks/,
# and `git status` of results/ stays clean.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANAD_ROOT"
before=$(git status --porcelain -- results)
out=$(mktemp -d)
env -u GANAD_RESULTS GANAD_PROFILE=quick GANAD_HEADLESS=1 jupyter nbconvert --to html --execute \
  --ExecutePreprocessor.kernel_name="$GANAD_KERNEL" --ExecutePreprocessor.timeout=1800 \
  --output-dir "$out" notebooks/02-train-gan.ipynb > "$out/log" 2>&1 || { tail -30 "$out/log" >&2; exit 1; }
test -f runs/notebooks/runs/gan-class0/run.json || { echo "FAIL: notebook 02 did not write its run to runs/notebooks/" >&2; exit 1; }
after=$(git status --porcelain -- results)
if [ "$before" != "$after" ]; then
  echo "FAIL: running notebook 02 changed results/:" >&2
  git status --porcelain -- results >&2
  exit 1
fi
echo "ok: notebook 02 explores in runs/notebooks/ and leaves results/ as it was"
