"""Every committed run under results/ recomputes: its test AUROC from its Parquet scores with
scikit-learn (to 1e-9), its run.json stays under 100 KB and names the commit that made it.

    python scripts/check_results.py [RESULTS_DIR]
"""
import json
import pathlib
import sys

import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "results")
runs = sorted(root.rglob("run.json"))
problems = []
for path in runs:
    run = json.loads(path.read_text())
    scores = pq.read_table(path.parent / "test_scores.parquet").to_pydict()
    ours = run["evaluation"]["test"]["auroc"]
    theirs = roc_auc_score(scores["label"], scores["score"])
    if not abs(ours - theirs) <= 1e-9:
        problems.append(f"{path}: test AUROC {ours!r} in run.json, {theirs!r} by scikit-learn from the Parquet scores")
    if len(scores["score"]) != run["split_sizes"]["test"]:
        problems.append(f"{path}: {len(scores['score'])} test scores for {run['split_sizes']['test']} test images")
    if path.stat().st_size >= 100_000:
        problems.append(f"{path}: {path.stat().st_size} bytes (keep run.json under 100 KB)")
    if run["provenance"]["commit"] in ("", "unknown"):
        problems.append(f"{path}: no commit recorded")
if problems:
    sys.exit("\n".join(problems))
print(f"ok: {len(runs)} runs under {root}: test AUROC recomputed from Parquet by scikit-learn to 1e-9")
