"""Deep SAD as Ruff et al.'s public code runs it on Fashion-MNIST, in PyTorch, to tell whether
their published means come out of their own procedure (docs/protocols.md, "Reproducing Deep SAD").

A one-file transcription of `lukasruff/Deep-SAD-PyTorch` for `fmnist_LeNet`: their split
(`create_semisupervised_setting`, drawn with the global NumPy generator as theirs is), pixels
/ 255, their LeNet and its decoder, PyTorch's default initialisation, c from an eval-mode
forward pass over the training batches, their objective (η = 1, ε 1e-6), Adam with their
weight decays, MultiStepLR stepped before each epoch, batches of 128 with the last dropped, and
the test AUROC of the last epoch on the full test split.
The dataset is the one `ganad data check` finds and verifies (build ganad first: `make setup`).

--transfer picks how the autoencoder's weights reach the network:
  none     as their code does: the autoencoder's keys carry an `encoder.` prefix, so
           `init_network_weights_from_pretraining` copies nothing and the network starts from its
           random initialisation with fresh BatchNorm statistics. The
           pretraining then changes nothing but the random stream, and is skipped.
  encoder  as the paper describes: the encoder's weights and BatchNorm statistics after
           pretraining.

    python scripts/deep_sad_public_code.py --normal 0 [--known 1] [--labelled-share 0.01]
        [--pollution 0.1] [--transfer none|encoder] [--epochs 150] [--seed 0] --out DIR
    python scripts/deep_sad_public_code.py --summarise DIR     # DIR/summary.md from DIR/*.json

Writes DIR/<run>.json (settings, split sizes, the AUROC every 10 epochs, provenance) and
DIR/<run>.parquet (every test image's class, label and score), atomically.
"""
import argparse
import gzip
import json
import os
import pathlib
import platform
import re
import subprocess
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
PUBLISHED = {0.0: 89.2, 0.01: 90.0, 0.05: 90.5, 0.1: 91.3, 0.2: 91.0}  # Deep SAD, F-MNIST, γ_p = 0.1


def verified_data_dir():
    """Where `ganad data check` finds the dataset (its search order) with every checksum right."""
    ganad = ROOT / "target" / "release" / "ganad"
    if not ganad.exists():
        raise SystemExit(f"{ganad} is missing: run `make setup` first (it builds ganad, which finds and checks the dataset)")
    check = subprocess.run([str(ganad), "data", "check"], capture_output=True, text=True)
    found = re.search(r"verified at (.+?) \(sha256", check.stdout)
    if check.returncode != 0 or not found:
        raise SystemExit(f"`ganad data check` did not verify the dataset:\n{check.stdout}{check.stderr}")
    return pathlib.Path(found.group(1))


def idx_file(data, name, offset):
    path = data / name
    if not path.exists():
        path = data / (name + ".gz")
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    return np.frombuffer(raw, np.uint8, offset=offset)


def semisupervised_split(labels, normal, known, labelled_share, pollution):
    """Their `create_semisupervised_setting` without labelled normals: the indices of the
    training images and their semi-supervised targets (0 unlabelled, −1 labelled anomaly)."""
    outliers = [c for c in range(10) if c != normal]
    idx_normal = np.argwhere(labels == normal).flatten()
    idx_outlier = np.argwhere(np.isin(labels, outliers)).flatten()
    idx_known = np.argwhere(labels == known).flatten() if labelled_share > 0 else np.array([], int)
    g_l, g_p = labelled_share, pollution
    a = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [-g_l, -g_l, -g_l, 1 - g_l], [0, -g_p, 1 - g_p, 0]])
    n_known_normal, n_normal, n_polluting, n_labelled = (int(v) for v in np.linalg.solve(a, [len(idx_normal), 0, 0, 0]))
    perm_normal = np.random.permutation(len(idx_normal))
    perm_outlier = np.random.permutation(len(idx_outlier))
    perm_known = np.random.permutation(len(idx_known))
    idx = np.concatenate([idx_normal[perm_normal[n_known_normal:n_known_normal + n_normal]],
                          idx_outlier[perm_outlier[:n_polluting]], idx_known[perm_known[:n_labelled]]])
    semi = np.array([0] * (n_normal + n_polluting) + [-1] * n_labelled)
    return idx.astype(int), semi, dict(normals=n_normal, polluting=n_polluting, labelled=n_labelled)


class LeNet(nn.Module):
    def __init__(self, rep_dim=64):
        super().__init__()
        self.rep_dim = rep_dim
        self.pool = nn.MaxPool2d(2, 2)
        self.conv1 = nn.Conv2d(1, 16, 5, bias=False, padding=2)
        self.bn2d1 = nn.BatchNorm2d(16, eps=1e-04, affine=False)
        self.conv2 = nn.Conv2d(16, 32, 5, bias=False, padding=2)
        self.bn2d2 = nn.BatchNorm2d(32, eps=1e-04, affine=False)
        self.fc1 = nn.Linear(32 * 7 * 7, 128, bias=False)
        self.bn1d1 = nn.BatchNorm1d(128, eps=1e-04, affine=False)
        self.fc2 = nn.Linear(128, rep_dim, bias=False)

    def forward(self, x):
        x = self.pool(F.leaky_relu(self.bn2d1(self.conv1(x))))
        x = self.pool(F.leaky_relu(self.bn2d2(self.conv2(x))))
        x = F.leaky_relu(self.bn1d1(self.fc1(x.flatten(1))))
        return self.fc2(x)


class Decoder(nn.Module):
    def __init__(self, rep_dim=64):
        super().__init__()
        self.fc3 = nn.Linear(rep_dim, 128, bias=False)
        self.bn1d2 = nn.BatchNorm1d(128, eps=1e-04, affine=False)
        self.deconv1 = nn.ConvTranspose2d(8, 32, 5, bias=False, padding=2)
        self.bn2d3 = nn.BatchNorm2d(32, eps=1e-04, affine=False)
        self.deconv2 = nn.ConvTranspose2d(32, 16, 5, bias=False, padding=3)
        self.bn2d4 = nn.BatchNorm2d(16, eps=1e-04, affine=False)
        self.deconv3 = nn.ConvTranspose2d(16, 1, 5, bias=False, padding=2)

    def forward(self, z):
        x = self.bn1d2(self.fc3(z)).view(z.size(0), 8, 4, 4)
        x = self.deconv1(F.interpolate(F.leaky_relu(x), scale_factor=2))
        x = self.deconv2(F.interpolate(F.leaky_relu(self.bn2d3(x)), scale_factor=2))
        x = self.deconv3(F.interpolate(F.leaky_relu(self.bn2d4(x)), scale_factor=2))
        return torch.sigmoid(x)


def batches(x, semi, batch_size=128):
    """One epoch of their training loader: shuffled, the last incomplete batch dropped."""
    order = torch.randperm(len(x))
    for b in range(len(x) // batch_size):
        j = order[b * batch_size:(b + 1) * batch_size]
        yield x[j], semi[j]


def step_scheduler(optimizer, epoch, lr, milestone):
    """Their MultiStepLR, stepped at the start of each epoch: a tenth from epoch `milestone` on (1-based)."""
    for group in optimizer.param_groups:
        group["lr"] = lr * 0.1 if epoch + 1 >= milestone else lr


def run(args):
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    data = verified_data_dir()
    train_x, train_y = idx_file(data, "train-images-idx3-ubyte", 16).reshape(-1, 28, 28), idx_file(data, "train-labels-idx1-ubyte", 8)
    test_x, test_y = idx_file(data, "t10k-images-idx3-ubyte", 16).reshape(-1, 28, 28), idx_file(data, "t10k-labels-idx1-ubyte", 8)
    idx, semi, sizes = semisupervised_split(train_y, args.normal, args.known, args.labelled_share, args.pollution)
    x = torch.tensor(train_x[idx], dtype=torch.float32).unsqueeze(1) / 255.0
    semi = torch.tensor(semi)
    xt = torch.tensor(test_x, dtype=torch.float32).unsqueeze(1) / 255.0
    yt = (test_y != args.normal).astype(int)
    net = LeNet()
    started = time.time()
    if args.transfer == "encoder":
        decoder = Decoder()
        params = list(net.parameters()) + list(decoder.parameters())
        opt = torch.optim.Adam(params, lr=1e-4, weight_decay=0.5e-3)
        net.train(), decoder.train()
        for epoch in range(args.epochs):
            step_scheduler(opt, epoch, 1e-4, args.milestone)
            for xb, _ in batches(x, semi):
                opt.zero_grad()
                torch.mean((decoder(net(xb)) - xb) ** 2).backward()
                opt.step()
    net.eval()
    with torch.no_grad():
        c = torch.cat([net(xb) for xb, _ in batches(x, semi)]).mean(0)
    c[(c.abs() < 0.1) & (c < 0)] = -0.1
    c[(c.abs() < 0.1) & (c > 0)] = 0.1

    def test_scores():
        net.eval()
        with torch.no_grad():
            d = torch.cat([((net(xt[i:i + 1000]) - c) ** 2).sum(1) for i in range(0, len(xt), 1000)])
        net.train()
        return d.numpy()

    opt = torch.optim.Adam(net.parameters(), lr=1e-4, weight_decay=0.5e-6)
    net.train()
    history = []
    for epoch in range(args.epochs):
        step_scheduler(opt, epoch, 1e-4, args.milestone)
        for xb, sb in batches(x, semi):
            opt.zero_grad()
            dist = ((net(xb) - c) ** 2).sum(1)
            torch.where(sb == 0, dist, (dist + 1e-6) ** sb.float()).mean().backward()
            opt.step()
        if (epoch + 1) % 10 == 0 or epoch + 1 == args.epochs:
            scores = test_scores()
            history.append([epoch + 1, roc_auc_score(yt, scores)])
            print(f"{args.name}: epoch {epoch + 1}: test AUROC {history[-1][1]:.4f} ({time.time() - started:.0f} s)", flush=True)
    return dict(
        normal_class=args.normal, known_anomaly_class=args.known if args.labelled_share > 0 else None,
        labelled_share=args.labelled_share, pollution=args.pollution, transfer=args.transfer,
        epochs=args.epochs, pretrain_epochs=args.epochs if args.transfer == "encoder" else 0,
        milestone=args.milestone, seed=args.seed, split_sizes=dict(train=sizes, test=len(yt)),
        test_auroc=history[-1][1], auroc_every_10_epochs=history, wall_s=round(time.time() - started, 1),
        provenance=provenance()), scores, test_y, yt


def provenance():
    git = lambda *a: subprocess.run(["git", *a], capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    return dict(commit=git("rev-parse", "HEAD"), dirty=bool(git("status", "--porcelain", "--untracked-files=no")),
                torch=torch.__version__, cpu=cpu, threads=1)


def write_atomic(path, write):
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def summary_text(out):
    """The table of DIR/*.json runs, as DIR/summary.md holds it."""
    runs = [json.loads(p.read_text()) for p in sorted(out.glob("*.json")) if p.name != "summary.json"]
    groups = {}
    for r in runs:
        groups.setdefault((r["labelled_share"], r["pollution"], r["transfer"], r["epochs"]), []).append(r)
    lines = ["Deep SAD as Ruff et al.'s public code runs it (`scripts/deep_sad_public_code.py`, a PyTorch",
             "transcription): test AUROC of the last epoch on the full test split, one seed.", "",
             "| γ_l | γ_p | known anomaly class | weights from pretraining | epochs | " + " | ".join(f"{i} {n}" for i, n in enumerate(CLASSES))
             + " | mean | runs | published | mean, best recorded epoch by test AUROC (oracle) |", "|" + "---|" * 19]
    mean_over_classes = lambda per_class: np.mean([np.mean(v) for v in per_class.values()])
    for (g_l, g_p, transfer, epochs), rs in sorted(groups.items()):
        by_class, oracle = {}, {}
        for r in rs:
            by_class.setdefault(r["normal_class"], []).append(r["test_auroc"])
            oracle.setdefault(r["normal_class"], []).append(max(auroc for _, auroc in r["auroc_every_10_epochs"]))
        cells = [f"{np.mean(by_class[c]):.3f}" if c in by_class else "—" for c in range(10)]
        published = f"{PUBLISHED[g_l] / 100:.3f}" if g_p == 0.1 and g_l in PUBLISHED else "—"
        known = "—" if g_l == 0 else "c + 1" if all(r["known_anomaly_class"] == (r["normal_class"] + 1) % 10 for r in rs) else "various"
        lines.append(f"| {g_l} | {g_p} | {known} | {'none (as their code runs)' if transfer == 'none' else 'encoder'} | {epochs} | "
                     + " | ".join(cells) + f" | {mean_over_classes(by_class):.3f} | {len(rs)} | {published} | {mean_over_classes(oracle):.3f} |")
    lines += ["", "Mean over the normal classes run (each the mean over its known anomaly classes run);"
              " published: Ruff et al.'s F-MNIST mean over the 90 pairs at that γ_l (γ_p = 0.1).",
              "The last column picks each run's epoch by its test AUROC (every 10th epoch): an oracle no method has,"
              " shown only to say how high any epoch of the schedule gets."]
    return "\n".join(lines) + "\n"


def summarise(out):
    text = summary_text(out)
    write_atomic(out / "summary.md", lambda p: p.write_text(text))
    print(text, end="")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--normal", type=int)
    ap.add_argument("--known", type=int, default=None, help="known anomaly class (default: the next class)")
    ap.add_argument("--labelled-share", type=float, default=0.0)
    ap.add_argument("--pollution", type=float, default=0.1)
    ap.add_argument("--transfer", choices=["none", "encoder"], default="none")
    ap.add_argument("--epochs", type=int, default=150, help="of each phase")
    ap.add_argument("--milestone", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=pathlib.Path)
    ap.add_argument("--summarise", type=pathlib.Path)
    args = ap.parse_args()
    if args.summarise:
        return summarise(args.summarise)
    if args.normal is None or args.out is None or not 0 <= args.normal <= 9:
        ap.error("--normal 0..9 and --out DIR are required (or --summarise DIR)")
    args.known = (args.normal + 1) % 10 if args.known is None else args.known
    if args.known == args.normal or not 0 <= args.known <= 9:
        ap.error(f"--known {args.known}: the known anomaly class must be 0..9 and not the normal class")
    args.name = (f"class{args.normal}" + (f"-known{args.known}-labelled{args.labelled_share}" if args.labelled_share > 0 else "")
                 + f"-pollution{args.pollution}-transfer-{args.transfer}-epochs{args.epochs}-seed{args.seed}")
    args.out.mkdir(parents=True, exist_ok=True)
    record, scores, classes, labels = run(args)
    table = pa.table({"class": classes.astype(np.int64), "label": labels.astype(np.int64), "score": scores.astype(np.float64)})
    write_atomic(args.out / f"{args.name}.parquet", lambda p: pq.write_table(table, p))
    write_atomic(args.out / f"{args.name}.json", lambda p: p.write_text(json.dumps(record, indent=1) + "\n"))


if __name__ == "__main__":
    main()
