"""PyTorch eager twin of ganad's networks and eight losses (the paper's recipe), for `ganad bench`.

Reads a safetensors file written by the bench (the three networks' weights under the prefixes
`generator.`, `normal_discriminator.`, `anomaly_discriminator.`, the inputs `normals` and
`anomalies`, and the settings as 0-d tensors), computes the eight losses at those weights,
then times what a PyTorch user would write: training steps with the same update order as
ganad's trainer, and optionally a whole epoch, a whole class and scoring on tensors of the
shapes ganad's runs use. Plain eager fp32, no tricks; or, with --autocast, the same code with
its forward passes under `torch.autocast("cpu", dtype=torch.bfloat16)`, the way a PyTorch user
trains in bf16 on a CPU with bf16 units (convolutions and matrix products in bf16, the backward
and Adam in fp32). Prints one JSON line.

    python bench/torch_reference.py BENCH.safetensors STEPS [--autocast] [--epoch STEPS,VALIDATION]
        [--class EPOCHS,STEPS,VALIDATION,TEST] [--score IMAGES]
"""
import contextlib
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

NAMES = ["reconstruction", "patch", "latent", "normal_adversarial", "abc",
         "anomaly_adversarial", "normal_discriminator", "anomaly_discriminator"]


def lrelu(x):
    return F.leaky_relu(x, 0.2)


class Generator(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.down1 = nn.Conv2d(1, w, 4, 2, 1)
        self.down2, self.down2_bn = nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w)
        self.down3, self.down3_bn = nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.BatchNorm2d(4 * w)
        self.down4, self.down4_bn = nn.Conv2d(4 * w, 8 * w, 4, 2, 1), nn.BatchNorm2d(8 * w)
        self.up1, self.up1_bn = nn.ConvTranspose2d(8 * w, 4 * w, 4, 2, 1), nn.BatchNorm2d(4 * w)
        self.up2, self.up2_bn = nn.ConvTranspose2d(8 * w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w)
        self.up3, self.up3_bn = nn.ConvTranspose2d(4 * w, w, 4, 2, 1), nn.BatchNorm2d(w)
        self.up4 = nn.ConvTranspose2d(2 * w, 1, 4, 2, 1)

    def encode(self, x):
        e1 = lrelu(self.down1(x))
        e2 = lrelu(self.down2_bn(self.down2(e1)))
        e3 = lrelu(self.down3_bn(self.down3(e2)))
        return e1, e2, e3, lrelu(self.down4_bn(self.down4(e3)))

    def decode(self, enc):
        e1, e2, e3, z = enc
        d = F.relu(self.up1_bn(self.up1(z)))
        d = F.relu(self.up2_bn(self.up2(torch.cat([d, e3], 1))))
        d = F.relu(self.up3_bn(self.up3(torch.cat([d, e2], 1))))
        return torch.tanh(self.up4(torch.cat([d, e1], 1)))


class Discriminator(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.down1 = nn.Conv2d(1, w, 4, 2, 1)
        self.down2, self.down2_bn = nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w)
        self.down3, self.down3_bn = nn.Conv2d(2 * w, 4 * w, 4, 2, 1), nn.BatchNorm2d(4 * w)
        self.same4, self.same4_bn = nn.Conv2d(4 * w, 8 * w, 3, 1, 1), nn.BatchNorm2d(8 * w)
        self.patch_head = nn.Conv2d(8 * w, 1, 3, 1, 1)
        self.image_head = nn.Conv2d(8 * w, 1, 4, 1, 0)

    def forward(self, x):
        h = lrelu(self.down1(x))
        h = lrelu(self.down2_bn(self.down2(h)))
        h = lrelu(self.down3_bn(self.down3(h)))
        h = lrelu(self.same4_bn(self.same4(h)))
        return self.image_head(h).flatten(1).squeeze(1), self.patch_head(h)


def bce(logits, real):
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return F.binary_cross_entropy_with_logits(logits, target)


def adversarial(out, real):
    return 0.5 * (bce(out[0], real) + bce(out[1], real))


def losses(g, dn, da, x, xa, s):
    enc = g.encode(x)
    xh = g.decode(enc)
    out = {}
    out["reconstruction"] = (x - xh).abs().mean()
    errors = F.avg_pool2d((x - xh).abs(), s["window"], s["stride"]).flatten(1)
    out["patch"] = errors.topk(min(s["top_k"], errors.shape[1]), 1).values.mean()
    out["latent"] = (enc[3] - g.encode(xh)[3]).abs().mean()
    out["normal_adversarial"] = adversarial(dn(xh), True)
    out["normal_discriminator"] = 0.5 * (adversarial(dn(x), True) + adversarial(dn(xh.detach()), False))
    xah = g.decode(g.encode(xa))
    l1 = (xa - xah).abs().flatten(1).mean(1).clamp_min(1e-6)
    out["abc"] = (-torch.log(-torch.expm1(-l1))).mean()
    out["anomaly_adversarial"] = adversarial(da(xah), False)
    out["anomaly_discriminator"] = 0.5 * (adversarial(da(xa), True) + adversarial(da(xah.detach()), False))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("steps", type=int)
    p.add_argument("--epoch", help="STEPS,VALIDATION: one epoch of training steps, then scoring the validation set")
    p.add_argument("--class", dest="whole_class", help="EPOCHS,STEPS,VALIDATION,TEST: a whole class, train and score")
    p.add_argument("--score", type=int, help="IMAGES: scoring throughput")
    p.add_argument("--autocast", action="store_true", help="forward passes under torch.autocast bf16")
    a = p.parse_args()
    precision = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if a.autocast else contextlib.nullcontext
    t = load_file(a.file)
    torch.set_num_threads(int(t["threads"].item()))
    s = {k: int(t[k].item()) for k in ["width", "disc_width", "window", "stride", "top_k", "eval_batch"]}
    weights = {n: float(t[f"weight.{n}"].item()) for n in NAMES}
    g, dn, da = Generator(s["width"]), Discriminator(s["disc_width"]), Discriminator(s["disc_width"])
    for prefix, net in [("generator.", g), ("normal_discriminator.", dn), ("anomaly_discriminator.", da)]:
        state = {k[len(prefix):]: v for k, v in t.items() if k.startswith(prefix)}
        missing, unexpected = net.load_state_dict(state, strict=False)
        missing = [m for m in missing if not m.endswith("num_batches_tracked")]
        assert not missing and not unexpected, (prefix, missing, unexpected)
    x, xa = t["normals"], t["anomalies"]
    for net in (g, dn, da):
        net.train()
    with precision():
        first = {k: float(v) for k, v in losses(g, dn, da, x, xa, s).items()}

    lr = float(t["learning_rate"].item())
    opts = [torch.optim.Adam(n.parameters(), lr=lr, betas=(0.5, 0.999)) for n in (g, dn, da)]

    def step(x, xa):
        with precision():
            out = losses(g, dn, da, x, xa, s)
            total = sum(weights[n] * out[n] for n in NAMES[:6])
        opts[0].zero_grad()
        total.backward()
        opts[0].step()
        for opt, name in [(opts[1], "normal_discriminator"), (opts[2], "anomaly_discriminator")]:
            opt.zero_grad()
            (weights[name] * out[name]).backward()
            opt.step()

    @torch.no_grad()
    def score(images):
        g.eval()
        with precision():
            scores = [(b - g.decode(g.encode(b)).float()).abs().flatten(1).mean(1) for b in images.split(s["eval_batch"])]
        g.train()
        return torch.cat(scores)

    def epoch(steps, validation):
        # A trainer's epoch: batches gathered from a set, one step each, then validation scores.
        pool, pool_a = x.repeat(2, 1, 1, 1), xa.repeat(2, 1, 1, 1)
        for i in range(steps):
            rows = torch.randint(0, pool.shape[0], (x.shape[0],))
            rows_a = torch.randint(0, pool_a.shape[0], (xa.shape[0],))
            step(pool[rows], pool_a[rows_a])
        score(validation)

    step(x, xa)  # warm-up
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step(x, xa)
        times.append(time.perf_counter() - t0)
    result = {"losses": first, "step_s": times, "torch": torch.__version__, "threads": torch.get_num_threads()}
    if a.epoch:
        steps, val = map(int, a.epoch.split(","))
        validation = torch.rand(val, 1, 32, 32) * 2 - 1
        t0 = time.perf_counter()
        epoch(steps, validation)
        result["epoch_s"] = time.perf_counter() - t0
    if a.whole_class:
        epochs, steps, val, test = map(int, a.whole_class.split(","))
        validation, test_set = torch.rand(val, 1, 32, 32) * 2 - 1, torch.rand(test, 1, 32, 32) * 2 - 1
        t0 = time.perf_counter()
        for _ in range(epochs):
            epoch(steps, validation)
        score(test_set)
        result["class_s"] = time.perf_counter() - t0
    if a.score:
        images = torch.rand(a.score, 1, 32, 32) * 2 - 1
        score(images[: s["eval_batch"]])  # warm-up
        t0 = time.perf_counter()
        score(images)
        result["score_images_per_s"] = a.score / (time.perf_counter() - t0)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
