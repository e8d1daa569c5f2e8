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
  # evcxr reports some failures as stderr output of a cell that still counts as ok.
  python3 - "$html" <<'PY'
import re, sys
page = open(sys.argv[1]).read()
for block in re.findall(r'data-mime-type="application/vnd.jupyter.stderr".*?</pre>', page, re.S):
    if re.search(r'panicked|\berror(\[E\d+\])?:', block):
        sys.exit(f"error output in {sys.argv[1]}:\n{re.sub(r'<[^>]+>', '', block)[:2000]}")
PY
  echo "   $html ($((SECONDS - t0)) s)"
done
