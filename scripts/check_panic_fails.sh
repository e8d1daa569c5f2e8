#!/usr/bin/env bash
# Proves that a panicking cell fails headless execution (the panic hook of notebook::init).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANAD_ROOT"
dir=$(mktemp -d)
prelude=$(python3 -c 'import json; print(json.dumps("".join(json.load(open("notebooks/01-data-exploration.ipynb"))["cells"][1]["source"])))')
cat > "$dir/panic.ipynb" <<NB
{"cells": [
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": $prelude},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "panic!(\"deliberate panic\");"}
 ],
 "metadata": {"kernelspec": {"display_name": "Rust (ganad)", "language": "rust", "name": "$GANAD_KERNEL"}},
 "nbformat": 4, "nbformat_minor": 5}
NB
cp notebooks/evcxr.toml "$dir/" 2>/dev/null || true
if GANAD_HEADLESS=1 jupyter nbconvert --to html --execute --ExecutePreprocessor.kernel_name="$GANAD_KERNEL" \
     --ExecutePreprocessor.timeout=1800 --output-dir "$dir" "$dir/panic.ipynb" > "$dir/log" 2>&1; then
  echo "FAIL: a notebook with a panicking cell executed successfully" >&2
  exit 1
fi
grep -q "deliberate panic" "$dir/log" || { echo "FAIL: nbconvert failed, but not on the deliberate panic:" >&2; tail -20 "$dir/log" >&2; exit 1; }
echo "ok: a panicking cell fails headless execution"
