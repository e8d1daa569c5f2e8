"""The results check catches an overwritten run: a copy of the committed reports, with one run
replaced the way a notebook rerun would replace it, must fail scripts/check_results.py, and the
untouched copy must pass; a run of the Deep SAD transcription whose scores were rewritten must fail too.

    python scripts/test_check_results.py
"""
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

here = pathlib.Path(__file__).resolve().parent
results = here.parent / "results"


def check(root):
    done = subprocess.run([sys.executable, str(here / "check_results.py"), str(root)], capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


with tempfile.TemporaryDirectory() as tmp:
    reports = pathlib.Path(tmp) / "reports"
    shutil.copytree(results / "reports", reports, ignore=shutil.ignore_patterns("checkpoints"))
    code, out = check(reports)
    assert code == 0, f"the untouched copy of results/reports fails:\n{out}"

    # Another GAN run's files where the report's GAN run was (what a notebook rerun writes).
    gan = reports / "runs" / "gan-class0"
    other = next(p.parent for p in sorted(results.rglob("run.json")) if "sweep-ratio0/" in str(p) and p.parent.name.endswith("-gan"))
    for f in ["config.json", "run.json", "test_scores.parquet", "validation_scores.parquet", "history.parquet"]:
        shutil.copy(other / f, gan / f)
    code, out = check(reports)
    assert code != 0 and "gan-class0" in out and "overwritten" in out, f"a replaced run passes the check:\n{out}"

    # The same commit and scores, but a config.json that no longer is the run's.
    shutil.rmtree(reports)
    shutil.copytree(results / "reports", reports, ignore=shutil.ignore_patterns("checkpoints"))
    config = json.loads((reports / "runs" / "ae-class0" / "config.json").read_text())
    config["train"]["epochs"] += 1
    (reports / "runs" / "ae-class0" / "config.json").write_text(json.dumps(config))
    code, out = check(reports)
    assert code != 0 and "ae-class0: config.json" in out, f"a rewritten config passes the check:\n{out}"

    # A run of the Deep SAD transcription whose Parquet scores no longer give its AUROC.
    public = pathlib.Path(tmp) / "deep-sad-public-code"
    shutil.copytree(results / "deep-sad-public-code", public)
    code, out = check(public)
    assert code == 0, f"the untouched copy of results/deep-sad-public-code fails:\n{out}"
    scores_file = sorted(public.glob("*.parquet"))[0]
    table = pq.read_table(scores_file).to_pydict()
    table["score"] = table["score"][::-1]
    pq.write_table(pa.table(table), scores_file)
    code, out = check(public)
    assert code != 0 and scores_file.name in out, f"scores that no longer give the run's AUROC pass the check:\n{out}"
print("ok: the results check fails on an overwritten run or rewritten scores and passes the committed ones")
