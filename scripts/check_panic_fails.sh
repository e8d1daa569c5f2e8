#!/usr/bin/env bash
# Proves that a panicking cell fails headless execution (the panic hook of notebook::init):
# a notebook made of notebook 01's prelude cell and a cell that panics must make nbconvert fail.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANAD_ROOT"
out=$(mktemp -d)
# Inside notebooks/ so that the prelude's `:dep ganad-core = { path = "../ganad-core" }` resolves.
nb=notebooks/.panic-check.ipynb
trap 'rm -f "$nb"' EXIT
python3 - "$nb" <<'PY'
import json, sys
nb = json.load(open("notebooks/01-data-exploration.ipynb"))
prelude = nb["cells"][1]
assert prelude["cell_type"] == "code" and ":dep ganad-core" in "".join(prelude["source"]), "cell 1 of notebook 01 is no longer the prelude"
nb["cells"] = [prelude, {"cell_type": "code", "id": "panic", "metadata": {}, "execution_count": None, "outputs": [],
                         "source": ["panic!(\"deliberate panic\");"]}]
json.dump(nb, open(sys.argv[1], "w"))
PY
if GANAD_HEADLESS=1 jupyter nbconvert --to html --execute --ExecutePreprocessor.kernel_name="$GANAD_KERNEL" \
     --ExecutePreprocessor.timeout=1800 --output-dir "$out" "$nb" > "$out/log" 2>&1; then
  echo "FAIL: a notebook with a panicking cell executed successfully" >&2
  exit 1
fi
grep -q "deliberate panic" "$out/log" || { echo "FAIL: nbconvert failed, but not on the deliberate panic:" >&2; tail -20 "$out/log" >&2; exit 1; }
echo "ok: a panicking cell fails headless execution"
