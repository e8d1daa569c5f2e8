#!/usr/bin/env python3
"""Adds the model's parts to run configs saved before they were config fields.

Before, D_A and the three heads existed because of loss weights and the anomaly ratio; now
`model.anomaly_discriminator`, `model.anomaly_head`, `model.discriminator_anomaly_head` and
`model.rotation_head` say so, and a weight on a part the model lacks is refused. This script
writes into every config (config.json, the config inside run.json, a sweep's plan.json) the parts
its run had, by the old rules, and sets to 0 the weights that belonged to a part the run did not
build (they had no effect, so no number changes). The classifier baseline's config also gets the
β its Adam ran with (PyTorch's 0.9, 0.999; it recorded the GAN's). Files already migrated are left
as they are.

    python scripts/migrate_model_parts.py [DIR ...]     (default: results)
"""
import json
import re
import sys
from pathlib import Path

PARTS = ("anomaly_discriminator", "anomaly_head", "discriminator_anomaly_head", "rotation_head")
# The struct defaults that a saved config may leave out (the paper's recipe).
LOSS_DEFAULTS = {
    "classification": 0.0,
    "discriminator_classification": 0.0,
    "rotation": 0.0,
    "anomaly_adversarial": 1.0,
    "anomaly_discriminator": 0.5,
}
RATIO_DEFAULT = 0.01


def is_config(v):
    return isinstance(v, dict) and all(k in v for k in ("data", "model", "loss", "train", "eval"))


def migrate_config(c):
    """Adds the parts to one config in place; True if it changed."""
    model = c["model"]
    if all(p in model for p in PARTS):
        return False
    ratio = c["data"].get("anomaly_ratio", RATIO_DEFAULT)
    loss = c["loss"]
    score = c["eval"].get("score", {})
    w = {k: loss.get(k, d) for k, d in LOSS_DEFAULTS.items()}
    labelled = ratio > 0
    # The old rules (gan::Gan::new and the config's helpers before the fields existed).
    parts = {
        "anomaly_discriminator": labelled and (w["anomaly_adversarial"] > 0 or w["anomaly_discriminator"] > 0),
        "anomaly_head": labelled and w["classification"] > 0,
        "discriminator_anomaly_head": labelled and w["discriminator_classification"] > 0,
        "rotation_head": w["rotation"] > 0,
    }
    # The weights that belonged to a part the run did not build.
    owned = {
        "anomaly_discriminator": (["anomaly_discriminator", "anomaly_adversarial"], []),
        "anomaly_head": (["classification"], ["anomaly_head"]),
        "discriminator_anomaly_head": (["discriminator_classification"], ["discriminator_head"]),
        "rotation_head": (["rotation"], ["rotation"]),
    }
    if loss.get("reconstruction", 10.0) == 0.0 and w["classification"] > 0 and "deep_sad" not in c:
        # The classifier baseline: its Adam used PyTorch's β whatever the config said.
        c["train"]["beta1"], c["train"]["beta2"] = 0.9, 0.999
    for part, present in parts.items():
        model[part] = present
        if present:
            continue
        terms, components = owned[part]
        for t in terms:
            if w.get(t, loss.get(t, 0.0)) != 0.0:
                loss[t] = 0.0
        for s in components:
            if score.get(s, 0.0) != 0.0:
                score[s] = 0.0
    return True


def migrate(value):
    """Migrates every config inside a JSON value; True if any changed."""
    changed = False
    if is_config(value):
        changed |= migrate_config(value)
    if isinstance(value, dict):
        for v in value.values():
            changed |= migrate(v)
    elif isinstance(value, list):
        for v in value:
            changed |= migrate(v)
    return changed


def dumps(value):
    """JSON as serde_json writes it pretty: two spaces, exponents without padding or '+'."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    number = r"(?m)(^\s*|: )(-?[0-9]+(?:\.[0-9]+)?)e([+-]?)0*([0-9]+)"
    return re.sub(number, lambda m: m.group(1) + m.group(2) + "e" + ("-" if m.group(3) == "-" else "") + m.group(4), text)


def main(dirs):
    changed = 0
    for d in dirs:
        for path in sorted(Path(d).rglob("*.json")):
            raw = path.read_text(encoding="utf-8")
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if not migrate(value):
                continue
            text = dumps(value) + ("\n" if raw.endswith("\n") else "")
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            changed += 1
    print(f"migrated {changed} files")


if __name__ == "__main__":
    main(sys.argv[1:] or ["results"])
