"""Every committed run under results/ recomputes: its test AUROC from its Parquet scores with
scikit-learn (to 1e-9), its run.json stays under 100 KB and names the commit that made it; a run
that reports its last epoch records that epoch's AUROC as the one it reports. A sweep summary's
headline AUROCs (each run's last epoch) recompute from the Parquet scores where the runs report
their last epoch, its means from its runs, and its AUROC against each anomaly class alone from
the Parquet scores too. The runs of scripts/deep_sad_public_code.py (<run>.json beside
<run>.parquet) recompute their test AUROC too, were made from a committed tree, and their
summary.md is the table of them.

    python scripts/check_results.py [RESULTS_DIR]
"""
import json
import pathlib
import re
import sys

import pyarrow.parquet as pq
from sklearn.metrics import roc_auc_score

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "results")
runs = sorted(root.rglob("run.json"))
problems = []


def recomputed_scores(path, reported, scores_file, n_test):
    """A run's test scores, with a problem noted where scikit-learn's AUROC of them is not the one
    the run reports, or where they are not one per test image."""
    scores = pq.read_table(scores_file).to_pydict()
    theirs = roc_auc_score(scores["label"], scores["score"])
    if not abs(reported - theirs) <= 1e-9:
        problems.append(f"{path}: test AUROC {reported!r} recorded, {theirs!r} by scikit-learn from {scores_file.name}")
    if len(scores["score"]) != n_test:
        problems.append(f"{path}: {len(scores['score'])} test scores for {n_test} test images")
    return scores


test_scores = {}  # run directory → its test scores, read once for both checks
for path in runs:
    run = json.loads(path.read_text())
    ours = run["evaluation"]["test"]["auroc"]
    test_scores[path.parent] = recomputed_scores(path, ours, path.parent / "test_scores.parquet", run["split_sizes"]["test"])
    if path.stat().st_size >= 100_000:
        problems.append(f"{path}: {path.stat().st_size} bytes (keep run.json under 100 KB)")
    if run["provenance"]["commit"] in ("", "unknown"):
        problems.append(f"{path}: no commit recorded")
    reports_last = run["config"]["train"].get("checkpoint") == "last"
    if reports_last and run.get("last_epoch") and run["last_epoch"]["test_auroc"] != ours:
        problems.append(f"{path}: reports its last epoch, but last_epoch.test_auroc {run['last_epoch']['test_auroc']!r} is not the reported {ours!r}")

# Runs of the PyTorch transcription of Deep SAD's public code: DIR/<run>.json beside DIR/<run>.parquet.
script_runs = [p for p in sorted(root.rglob("*.json")) if p.name not in ("run.json", "summary.json") and p.with_suffix(".parquet").exists()]
for path in script_runs:
    run = json.loads(path.read_text())
    recomputed_scores(path, run["test_auroc"], path.with_suffix(".parquet"), run["split_sizes"]["test"])
    if run["provenance"]["commit"] in ("", "unknown") or run["provenance"]["dirty"]:
        problems.append(f"{path}: made at commit {run['provenance']['commit']!r} with uncommitted changes: rerun it from a clean tree")
if script_runs:  # their table is the transcription's own (which imports torch: only when needed)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    from deep_sad_public_code import summary_text
for folder in sorted({p.parent for p in script_runs}):
    if not (folder / "summary.md").exists() or (folder / "summary.md").read_text() != summary_text(folder):
        problems.append(f"{folder}/summary.md is not the table of its runs: python scripts/deep_sad_public_code.py --summarise {folder}")


def mean(values):
    return sum(values) / len(values)


summaries = [p for p in sorted(root.rglob("summary.json")) if "auroc_by_anomaly_class" in json.loads(p.read_text())]
for path in summaries:
    summary = json.loads(path.read_text())
    seeds = {}
    headline = {}  # (method, normal class) → the runs' headline AUROCs
    for run in summary["runs"]:
        c, method = run["normal_class"], run["method"]
        run_dir = path.parent / run.get("dir", f"class{c}-seed{run['seed']}-{method}")
        scores = test_scores[run_dir]
        headline.setdefault((method, str(c)), []).append(run["test_auroc"])
        if run.get("checkpoint") == "last":
            theirs = roc_auc_score(scores["label"], scores["score"])
            if not abs(run["test_auroc"] - theirs) <= 1e-9:
                problems.append(f"{path}: {run_dir.name}: headline {run['test_auroc']!r}, {theirs!r} by scikit-learn from its Parquet scores")
        normal = [s for s, label in zip(scores["score"], scores["label"]) if label == 0]
        for k in sorted(set(scores["class"]) - {c}):
            anomalies = [s for s, cls in zip(scores["score"], scores["class"]) if cls == k]
            auroc = roc_auc_score([0] * len(normal) + [1] * len(anomalies), normal + anomalies)
            seeds.setdefault((method, str(c), str(k)), []).append(auroc)
    for (method, c, k), values in seeds.items():
        ours = summary["auroc_by_anomaly_class"][method][c][k]
        if not abs(ours - sum(values) / len(values)) <= 1e-9:
            problems.append(f"{path}: {method}, normal class {c} against class {k}: {ours!r}, {sum(values) / len(values)!r} by scikit-learn")
    for (method, c), values in headline.items():
        stat = summary["methods"][method]["per_class"][c]
        if not abs(stat["mean"] - mean(values)) <= 1e-9:
            problems.append(f"{path}: {method}, class {c}: mean {stat['mean']!r} in the summary, {mean(values)!r} from its runs")

# What the committed reports and summaries say of their runs must still be what the run
# directories hold: a notebook or sweep that wrote over a committed run fails here.
reports = 0
for runs_dir in sorted(root.rglob("runs")):
    pages = {p.name: p.read_text() for p in runs_dir.parent.glob("*.html")}
    if not runs_dir.is_dir() or not pages:
        continue
    committed = {m for page in pages.values() for m in re.findall(r"at commit ([0-9a-f]{40})", page)}
    for run_json in sorted(runs_dir.glob("*/run.json")):
        reports += 1
        run, name = json.loads(run_json.read_text()), run_json.parent.name
        config = json.loads((run_json.parent / "config.json").read_text())
        if config != run["config"]:
            problems.append(f"{run_json.parent}: config.json is not the config run.json recorded")
        if committed and run["provenance"]["commit"] not in committed:
            problems.append(f"{run_json.parent}: made at commit {run['provenance']['commit']}, the reports beside it at {', '.join(sorted(committed))}: was it overwritten?")
        auroc = run["evaluation"]["test"]["auroc"]
        shows = [f"test AUROC {auroc:.5f}"] if name.startswith("gan-") else [f"<td>{auroc:.4f}</td>"]
        if not any(s in page for s in shows for page in pages.values()):
            problems.append(f"{run_json.parent}: its test AUROC {auroc:.5f} appears in no report beside it ({', '.join(sorted(pages))}): was it overwritten?")
for path in summaries:
    for entry in json.loads(path.read_text())["runs"]:
        run_dir = path.parent / entry.get("dir", f"class{entry['normal_class']}-seed{entry['seed']}-{entry['method']}")
        run = json.loads((run_dir / "run.json").read_text())
        said = (entry["method"], entry["normal_class"], entry["seed"], entry["commit"], entry.get("test_auroc_reported_by_run", entry["test_auroc"]))
        method = {"autoencoder": "ae", "deep_sad": "deep-sad"}.get(run["method"], run["method"])  # run.json's name → the tables'
        holds = (method, run["normal_class"], run["seed"], run["provenance"]["commit"], run["evaluation"]["test"]["auroc"])
        if said != holds:
            problems.append(f"{run_dir}: the summary says {said}, run.json holds {holds}: was it overwritten?")

if problems:
    sys.exit("\n".join(problems))
print(f"ok: {len(runs)} runs under {root}: test AUROC recomputed from Parquet by scikit-learn to 1e-9")
print(f"ok: {len(script_runs)} runs of the Deep SAD transcription: test AUROC recomputed from Parquet to 1e-9, their summary.md their table")
print(f"ok: {len(summaries)} summaries: AUROC against each anomaly class recomputed to 1e-9, every run as its summary says")
print(f"ok: {reports} report runs as their HTML reports say")
