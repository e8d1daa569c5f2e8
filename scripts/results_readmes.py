"""Writes a README.md into each folder of results/ (and each entry of results/leads/): what the
folder holds and how it was made, and for each lead the change it tried, its runs' numbers
(read from their run.json, never typed) and the verdict. The prose is below; the numbers are
the runs'.

    python scripts/results_readmes.py [RESULTS_DIR]
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "results")
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

FOLDERS = {
    "sweep-ratio0.01": ("ganad's own protocol: ten classes, anomaly ratio 0.01 (54 labelled anomalies from all nine anomaly classes), "
                        "three seeds for the GAN and the classifier, one for the autoencoder and the random scorer.", "make sweep",
                        "Its runs reported their best epoch on validation; the summary reports each run's last epoch, which each run.json records."),
    "sweep-ratio0": ("ganad's own protocol without labelled anomalies (ratio 0; 5,400 normals, the validation set held out), the GAN against the autoencoder, one seed.",
                     "make sweep-normal-only", "Its runs reported their best epoch on validation; the summary reports each run's last epoch. The one-class protocol's "
                     "sweep (results/one-class) replaces it as the normal-only result."),
    "one-class": ("The one-class protocol: all 6,000 training normals, no anomaly data of any kind, the GAN (the ganad recipe, normal-only) against the autoencoder.",
                  "make one-class", "Every run reports its last epoch."),
    "deep-sad-protocol": ("Deep SAD's protocol: each normal class with each of the other nine as the one known anomaly class (90 pairs), γ_l = 0.01 "
                          "(67 labelled anomalies), γ_p = 0.1 (666 unlabelled anomalies among the 6,000 normals), no validation set; the GAN "
                          "(the ganad recipe, frozen before the sweep), Deep SAD and the classifier, one seed. pairs.md gives every pair.",
                          "make deep-sad-protocol", "Every run reports its last epoch."),
    "deep-sad-protocol-rotation": ("Deep SAD's protocol as in deep-sad-protocol, the GAN alone, trained as there and scored by D_N's rotation loss "
                                   "alone: the score frozen in leads/score-one-known-class and tested in leads/score-one-known-class-held-out, "
                                   "both after the frozen sweep's numbers were seen (the recipe's own score is unchanged). Runs whose `run.json` has `rescored_from` are that sweep's kept "
                                   "weights scored again (`ganad rescore`); the others trained anew with the same config and seed.",
                                   "make deep-sad-protocol-rotation", "Every run reports its last epoch."),
    "deep-sad-unlabelled": ("Deep SAD's protocol without labels (γ_l = 0, γ_p = 0.1): the reproduction of Deep SAD (then Deep SVDD-like), ten classes, one seed.",
                            "make deep-sad-unlabelled", "Every run reports its last epoch."),
    "deep-sad-public-code": ("Deep SAD as Ruff et al.'s public code runs it, through its PyTorch transcription: their split, network, centre, "
                             "objective and 150-epoch schedule, no weight copied from pretraining (as their code does), one seed; ten classes at "
                             "γ_l = 0 and ten pairs (each class with the next one known) at γ_l = 0.01, both at γ_p = 0.1.",
                             "make deep-sad-public-code",
                             "Every run reports its last epoch; summary.md is written by the same script's --summarise."),
    "deep-sad-schedule": ("Deep SAD with Ruff et al.'s full schedule (150 + 150 epochs, the rate a tenth from epoch 50) on the protocol without labels, "
                          "beside the default profile's 30 + 30 (results/deep-sad-unlabelled): the measurement behind the shortened schedule.",
                          "ganad sweep --classes 0-9 --methods deep-sad --anomaly-ratio 0 --pollution 0.1 --validation-share 0 "
                          "--config '{\"deep_sad\": {\"pretrain_epochs\": 150, \"epochs\": 150, \"milestone\": 50}}'", "Every run reports its last epoch."),
    "labels-curve": ("Test AUROC against the number of labelled anomalies on ganad's protocol: classes 0, 2, 4 and 6 at anomaly ratios 0 to 0.1, "
                     "the GAN against the classifier. labels_curve.md and labels_curve.svg hold the curve.", "make labels-curve",
                     "Every run reports its last epoch."),
    "ablation": ("The lever study on ganad's protocol: the paper's recipe, each lever alone on top of it, and the ganad recipe, classes 0, 2, 3 and 6, "
                 "seeds 0–2 (docs/results.md says what each row measured).", "make ablation",
                 "Its runs reported their best epoch on validation; ablation.md is the table of that time."),
    "precision": ("bf16 against fp32 training of the ganad recipe, classes 0 and 6, seeds 0–2.", "make precision",
                  "Its runs reported their best epoch on validation."),
    "reports": ("The HTML reports of notebooks 01–04 (class 0, default profile) and the runs they show (runs/).", "make run",
                "make test fails when a run here is no longer the one its reports show."),
    "leads": ("Single changes tried on top of the recipe of their time, each in its own folder with its README (the change, its numbers, the verdict).",
              "ganad sweep / ganad train with --config, or scripts/rescore_components.sh, as each folder's README, plan.json or config.json records",
              "The runs on ganad's protocol reported their best epoch on validation; the score leads' runs report their last epoch."),
}

LEADS = {
    "abc-0": ("`loss.abc` = 0: the anomaly-boundary term off, on Shirt.", "Within the seeds' spread of the recipe of its time; ABC stays."),
    "anomaly-batch-32": ("`train.anomaly_batch_size` = 32 labelled anomalies a step instead of 16, on Trouser, Sandal and Shirt.", "Neutral on all three; not adopted."),
    "anomaly-shift-2": ("`train.augment.anomaly_shift` = 2: the labelled anomalies moved by up to 2 px, the normals not.", "Neutral; not adopted."),
    "batch-32": ("`train.batch_size` = 32 normals a step instead of 64, on Shirt.", "Within noise; not adopted."),
    "discriminator-head": ("The `discriminator_head` lever: an anomaly head on D_N's trunk, its logit in the score.", "Sandal above the classifier on every seed; adopted."),
    "ema-0": ("`train.ema_decay` = 0: no moving average of G, on Shirt.", "Within noise; the average stays in the recipe."),
    "epochs-12": ("`train.epochs` = 12 instead of 6, for the GAN and the classifier (same step budget).", "Sandal a little higher, Shirt lower at the epoch validation picks; twice the training, not adopted."),
    "epochs-12-flip-average": ("Twelve epochs and `eval.score.flip_average` on Trouser.", "Still behind the classifier's 0.9980; not adopted."),
    "flip-average": ("`eval.score.flip_average`: every image also scored mirrored, each score component averaged over the two views.", "Neutral; not adopted."),
    "flip-average-head-reads-e3": ("`model.head_reads_e3` (the anomaly head also reads the encoder's 4×4 map) with the flip average.", "Neutral; not adopted."),
    "head-lr-scale-10": ("`model.head_lr_scale` = 10: the anomaly head learns ten times as fast as the rest of G.", "Neutral; not adopted."),
    "normal-shift-2": ("`train.augment.shift` = 2 for the normals, the labelled anomalies unshifted, on Shirt.", "Shirt lower; not adopted."),
    "one-class-epochs-12": (
        "The one-class protocol: the one-class sweep's GAN config (the ganad recipe, normal-only) trained for 12 epochs instead of 6 "
        "(`--epochs 12`), seed 0, ten classes, in bf16 on a CPU with avx512_bf16, scored by the recipe's own score at the last epoch. "
        "The reason, given before any run: at 6 epochs D_N's rotation head and E see 564 steps, a short schedule for the "
        "self-supervised features the one-class score rests on. Frozen, and committed, before the first run started: does the "
        "longer schedule rank above results/one-class's three seeds (0.932) and above ARNet's 0.939 over the ten classes?",
        "No to both. Twelve epochs average 0.9313 over the ten classes, against 0.9325 for seed 0 at six epochs (0.932 over the three "
        "seeds of results/one-class), under ARNet's 0.939. Four classes gain (Bag +0.006, Sandal +0.005, Sneaker +0.002, Trouser "
        "+0.001), six lose (Pullover −0.007, T-shirt/top −0.007, Dress −0.006, Ankle boot −0.004, Shirt −0.003, Coat −0.001), each "
        "against seed 0: twice the training moves classes both ways by about a seed's spread and buys nothing on the mean. Not "
        "adopted."),
    "one-class-score": (
        "The one-class protocol (all 6,000 training normals, no anomaly data): the one-class sweep's GAN (its config, seed 0) "
        "trained again with its checkpoints kept (in fp32 on a CPU without bf16 units; results/one-class's runs trained in bf16), and "
        "its weights scored again by each component of its fused score alone, by `scripts/rescore_components.sh`. Frozen before any "
        "run here was scored: does D_N's rotation loss alone, chosen on Deep SAD's protocol and never scored on this one, rank above "
        "the fused score on the same weights, and above ARNet's 0.939 over the ten classes?",
        "No to both. Rotation alone averages 0.927 over the ten classes against 0.933 for the fused score on the same weights: above it "
        "on four classes (T-shirt/top, Pullover, Bag, Ankle boot), well below on Dress, Sandal and Sneaker. The fused one-class score "
        "ranks almost as the nearest normals alone do (0.935, within 0.01 of it on every class but Shirt, 0.833 against 0.810); the "
        "reconstruction error alone is far behind (0.786). No component alone reaches ARNet's 0.939, so the one-class goal needs more "
        "than a change of score (nearest normals alone, a little ahead, was not frozen and is shown for reference). The runs retrained "
        "here in fp32 score what results/one-class's bf16 runs score (0.933 both, each class within 0.003)."),
    "one-class-discriminator-neighbours": (
        "The one-class protocol: the one-class sweep's GAN runs of seeds 1 and 2 (results/one-class, trained in bf16 like seed 0, "
        "checkpoints kept) scored again with a component new to ganad, the distance to the five nearest training normals in "
        "D_N's last map (`eval.score.discriminator_nearest_normals`), by `scripts/rescore_components.sh`. The component was written "
        "after one-class-score showed E's nearest normals and D_N's rotation loss strong on different classes. Frozen, and committed, "
        "before any image of these runs was scored: does the recipe's score with this component added at weight 1 "
        "(plus-discriminator-nearest-normals, the only rule tested) rank above the recipe's score on the same weights, and above "
        "ARNet's 0.939 over the ten classes (mean of the two seeds)? The component alone and the others alone are shown for reference, not as rules.",
        "No to both. With D_N's nearest normals added, the score averages 0.9319 over the 20 runs against 0.9317 for the recipe's "
        "score on the same weights, above it on 10 of 20 runs, and stays far under ARNet's 0.939; no class moves by more than 0.005. "
        "Alone the component is the weakest of the three distances and losses that need no reconstruction (0.907, against 0.930 for "
        "E's nearest normals and 0.928 for rotation), lowest on Bag (0.845 and 0.854): D_N's last map, trained to tell real images "
        "from reconstructions and to orient normals, keeps less of what sets a class apart than E's bottleneck. Not adopted; the "
        "field stays for score studies. With results/leads/one-class-score, every component of the one-class score and this one "
        "have now been tried alone or added, and none reaches 0.939."),
    "score-one-known-class": (
        "Deep SAD's protocol (67 labelled anomalies from one known class, γ_p = 0.1): the ganad recipe's weights of five pairs scored again, "
        "each component of its fused score alone and its label-free part (the two heads that learn from labelled anomalies left out: the "
        "normal-only recipe's score), by `scripts/rescore_components.sh`. The pairs were picked by looking at the sweep's test AUROCs: four "
        "where the GAN trailed Deep SAD most and T-shirt/top with Bag known, where it led. Trained for this diagnosis at the sweep's config "
        "(in fp32 on a CPU without bf16 units; the sweep's runs of these pairs trained in bf16 and score within 0.02 of them).",
        "With one known class the two heads (`anomaly_head`, `discriminator_head`) learn that class apart from the normals and little of the "
        "other eight: near or below chance where the known class looks like the normal one, and they pull the fused score down on four pairs "
        "of five. D_N's rotation loss alone is the best single component on four pairs of five (the nearest normals, a little ahead, on Trouser with Sneaker known) and above the fused score on all five. Frozen from these five pairs, before the rescoring of "
        "any other run: the label-free score (the heads' evidence in the score only where the labelled anomalies cover every anomaly class) "
        "as the rule; rotation alone as an exploratory alternative, chosen on these pairs' test AUROCs. score-one-known-class-held-out "
        "tests both on the sweep's runs."),
    "score-one-known-class-held-out": (
        "The two scores frozen in score-one-known-class, label-free (the rule) and rotation alone (the exploratory alternative), with the "
        "other components for reference, applied to the weights of the Deep SAD protocol sweep's GAN runs that finished after they were "
        "frozen (their checkpoints kept), by `scripts/rescore_components.sh`. No run here was looked at before the rule was frozen.",
        "The rule does not hold: where the normal class and the known class are both footwear (Sandal with Sneaker or Ankle boot known, "
        "Sneaker with Ankle boot, Ankle boot with Sandal or Sneaker) the reconstruction error ranks many anomalies below the normals, likely "
        "because the terms that push the known class's reconstructions away teach G to reconstruct footwear badly, the normal class "
        "included; the label-free score falls to 0.46–0.82 there, while it is the best frozen score on most other Ankle boot and Bag pairs. "
        "Rotation alone is the steadiest score (see the mean row and its lowest run, 0.77 against 0.53 fused and 0.46 label-free), and on "
        "these pairs its mean is above our Deep SAD's: far above the fused score where that fails, up to 0.06 below it where the fused "
        "score works (most Bag, Sneaker and Ankle boot pairs with a clothing class known). By class it ties Deep SAD on Sandal and "
        "Sneaker, leads on Shirt and Ankle boot and trails on Bag. No frozen score beats the fused one on every pair. Rotation was chosen on five pairs' "
        "test AUROCs, and these runs, of classes 5–9 only, are the first it had not seen; promoting it changes the recipe, so it needs "
        "a frozen sweep of its own over all 90 pairs. The recipe stays as it was frozen for the sweep."),
    "shift-2": ("`train.augment.shift` = 2: every training image moved by up to 2 px.", "Sandal above the classifier on every seed, but Shirt and Trouser lower; not adopted."),
    "train-seed-1": ("`train.seed` = 1: other initial weights and batches on the split of seed 0, Shirt.", "Within 0.003 of seed 0's network: the labels, not the networks, limit Shirt."),
    "train-seed-2": ("`train.seed` = 2: as train-seed-1.", "As train-seed-1."),
    "unseen": ("Seeds 3 and 4, outside the sweep's 0–2, for Pullover and Shirt (GAN and classifier).", "Shirt inside the sweep's spread, Pullover below it, for the classifier too."),
    "unseen-rotation": ("Seed 3 of Pullover and Shirt with the recipe that adopted `rotation`.", "Shirt inside the sweep's spread, Pullover below it, as before."),
    "unseen-share": ("Seed 3 of Pullover and Shirt with `train.rotation_share` 0.25.", "The same as unseen-rotation."),
    "width-64": ("`model.base_width` and `discriminator_width` 64 (the paper's width) on Shirt, seed 0.", "Lower than the recipe of its time on the same run at width 32; not adopted."),
}


def runs_table(folder):
    rows = ["| run | test AUROC (best epoch on validation) | test AUROC (last epoch) |", "|---|---|---|"]
    for path in sorted(folder.rglob("run.json")):
        run = json.loads(path.read_text())
        last = run.get("last_epoch") or {}
        best = run.get("best_validation_epoch") or {}
        best_auroc = best.get("test_auroc", run["evaluation"]["test"]["auroc"]) if run["config"]["train"].get("checkpoint", "best_validation") == "best_validation" or best else None
        cell = lambda v: "—" if v is None else f"{v:.4f}"
        rows.append(f"| {path.parent.relative_to(folder)} ({NAMES[run['normal_class']]}) | {cell(best_auroc)} | {cell(last.get('test_auroc'))} |")
    return "\n".join(rows) + "\n"


SCORE_VARIANTS = ["reconstruction", "nearest-normals", "rotation", "anomaly-head", "discriminator-head", "discriminator-nearest-normals",
                  "label-free", "plus-discriminator-nearest-normals"]


def score_rows(folder):
    """One row per source run of the rescored runs in `folder` (`ganad rescore`): the AUROC it
    reported under the recipe's fused score, each rescoring of its weights, and Deep SAD's on the
    same pair where results/deep-sad-protocol holds that run."""
    rows = {}  # source run → {variant: test AUROC}
    for path in sorted(folder.glob("*-score-*/run.json")):
        run = json.loads(path.read_text())
        source, variant = run["rescored_from"]["run"], path.parent.name.rsplit("-score-", 1)[1]
        rows.setdefault(source, {"reported": run["rescored_from"]["test_auroc"], "class": run["normal_class"]})[variant] = run["evaluation"]["test"]["auroc"]
    for source, r in rows.items():
        deep_sad = root / "deep-sad-protocol" / pathlib.Path(source).name.replace("-gan", "-deep-sad") / "run.json"
        if deep_sad.exists():
            r["deep-sad"] = json.loads(deep_sad.read_text())["evaluation"]["test"]["auroc"]
    return rows


def score_table(folder):
    """The rows of `score_rows` as a table with their means, and how often each rescoring beats
    the fused score and, where Deep SAD ran the same pairs, Deep SAD (counted here, never typed)."""
    rows = score_rows(folder)
    variants = [v for v in SCORE_VARIANTS if any(v in r for r in rows.values())]
    # Deep SAD's column only where its sweep holds the same pairs (not on the one-class protocol).
    with_deep_sad = any("deep-sad" in r for r in rows.values())
    columns = ["reported", *variants] + (["deep-sad"] if with_deep_sad else [])
    cell = lambda v: "—" if v is None else f"{v:.4f}"
    header = ["run"] + [{"reported": "as trained (fused)", "deep-sad": "Deep SAD, same pair"}.get(c, c) for c in columns]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for source, r in sorted(rows.items()):
        shown = source[len(str(folder)) + 1:] if source.startswith(f"{folder}/") else source
        lines.append(f"| {shown} ({NAMES[r['class']]}) | " + " | ".join(cell(r.get(v)) for v in columns) + " |")
    mean = lambda v: (lambda xs: sum(xs) / len(xs) if xs else None)([r[v] for r in rows.values() if v in r])
    lines.append(f"| mean of the {len(rows)} | " + " | ".join(cell(mean(v)) for v in columns) + " |")

    def above(v, bar):
        both = [r for r in rows.values() if v in r and bar in r]
        return f"{sum(r[v] > r[bar] for r in both)} of {len(both)}"

    counted = [v for v in ("label-free", "rotation", "plus-discriminator-nearest-normals") if v in variants]
    lines.append("")
    sentence = "Above the fused score: " + ", ".join(f"{v} on {above(v, 'reported')} runs" for v in counted) + "."
    if with_deep_sad:
        sentence += " Above Deep SAD on the same pair: " + ", ".join(f"{'fused' if v == 'reported' else v} {above(v, 'deep-sad')}" for v in ["reported", *counted]) + "."
    lines.append(sentence)
    return "\n".join(lines) + "\n"


def against_frozen_sweep(folder):
    """Per normal class, over the pairs this sweep holds: its GAN beside the frozen sweep's GAN
    (the recipe's fused score) and Deep SAD on the same pairs, and how many pairs each wins."""
    load = lambda path: json.loads(path.read_text()) if path.exists() else None
    by_class, retrained, other_precision = {}, 0, 0
    for path in sorted(folder.glob("class*-gan/run.json")):
        run, frozen_dir = load(path), root / "deep-sad-protocol" / path.parent.name
        frozen, deep_sad = load(frozen_dir / "run.json"), load(frozen_dir.with_name(frozen_dir.name.replace("-gan", "-deep-sad")) / "run.json")
        if not run.get("rescored_from"):
            retrained += 1
            other_precision += frozen is not None and run.get("precision") != frozen.get("precision")
        if frozen and deep_sad:
            by_class.setdefault(run["normal_class"], []).append(tuple(r["evaluation"]["test"]["auroc"] for r in (run, frozen, deep_sad)))
    mean = lambda rows, i: f"{sum(r[i] for r in rows) / len(rows):.4f}"
    wins = lambda rows, i, j: f"{sum(r[i] > r[j] for r in rows)} of {len(rows)}"
    lines = ["| normal class | pairs | GAN, rotation alone | GAN, fused (deep-sad-protocol) | Deep SAD | rotation above fused | rotation above Deep SAD | fused above Deep SAD |",
             "|---|---|---|---|---|---|---|---|"]
    every = [r for rows in by_class.values() for r in rows]
    for label, rows in [*((f"{c} {NAMES[c]}", rows) for c, rows in sorted(by_class.items())), ("all pairs here", every)]:
        if rows:
            lines.append(f"| {label} | {len(rows)} | {mean(rows, 0)} | {mean(rows, 1)} | {mean(rows, 2)} | {wins(rows, 0, 1)} | {wins(rows, 0, 2)} | {wins(rows, 1, 2)} |")
    return ("\nThe GAN scored by rotation beside the frozen sweep's GAN and Deep SAD on the same pairs (test AUROC of the last epoch, "
            "seed 0, counted from the runs' `run.json`):\n\n" + "\n".join(lines) + "\n\n"
            f"{len(every) - retrained} of these pairs are the frozen sweep's weights scored again, so the two GAN columns differ in "
            f"the score alone; {retrained} trained anew, {other_precision} of them in another precision than the frozen sweep's "
            "run of the pair (`precision` in `run.json`: bf16 where the CPU has bf16 units, else fp32), so there the two columns "
            "differ in training too.\n")


EXTRA_TABLES = {"deep-sad-protocol-rotation": against_frozen_sweep}


def write(path, text):
    path.write_text(text)
    print("wrote", path)


for name, (what, command, rule) in FOLDERS.items():
    folder = root / name
    if not folder.is_dir():
        continue
    files = ", ".join(f"`{f}`" for f in ["summary.md", "anomaly_classes.md", "pairs.md", "labels_curve.md", "ablation.md", "precision.md"] if (folder / f).exists())
    text = f"# {name}\n\n{what}\n\nMade by `{command}`. {rule}\n"
    if files:
        record = "`run.json`" if any(folder.rglob("run.json")) else "`<run>.json`, beside its scores in `<run>.parquet`"
        text += f"\nThe tables: {files}; every run's config, seed and commit are in its {record}.\n"
    if name in EXTRA_TABLES:
        text += EXTRA_TABLES[name](folder)
    write(folder / "README.md", text)

for lead, (change, verdict) in LEADS.items():
    folder = root / "leads" / lead
    if folder.is_dir():
        table = score_table(folder) if any(folder.glob("*-score-*/run.json")) else runs_table(folder)
        text = f"# {lead}\n\n**The change**: {change}\n\n{table}\n**Verdict**: {verdict}\n\nEach run's `run.json` names the commit and config that made it.\n"
        write(folder / "README.md", text)
