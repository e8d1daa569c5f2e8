# ganad: the two commands of the README's quick start are `make run` and `make test`.
# Both run scripts/setup.sh first, which installs whatever is missing and is quick when nothing is.
SHELL := /bin/bash
ENV := source scripts/env.sh &&
CLASS ?= 0

.PHONY: setup run test test-rust test-notebooks test-results sweep sweep-normal-only ablation precision all-classes bench lab

setup:
	@scripts/setup.sh

## Main job: notebooks 01–04 on normal class $(CLASS), default profile → results/reports (HTML + JSON).
run: setup
	@$(ENV) GANAD_PROFILE=default GANAD_CLASS=$(CLASS) scripts/run_notebooks.sh results/reports 01 02 03 04

## Tests: Rust unit and integration tests, every committed result recomputed from its Parquet
## scores with scikit-learn, then all five notebooks headless in the quick profile.
test: setup test-rust test-results test-notebooks

test-rust:
	@$(ENV) cargo test --release --workspace

test-results:
	@$(ENV) python scripts/check_results.py results

test-notebooks:
	@$(ENV) out=$$(mktemp -d) && GANAD_PROFILE=quick scripts/run_notebooks.sh $$out 01 02 03 04 05 && scripts/check_panic_fails.sh

## Notebook 05: the one-vs-rest sweep over all 10 classes (default profile) → results/reports.
all-classes: setup
	@$(ENV) GANAD_PROFILE=default scripts/run_notebooks.sh results/reports 05

## The 10-class sweep from the CLI (RATIO=0.01 by default): the GAN and the classifier over seeds
## 0-2, the autoencoder and the random scorer on seed 0. Resumes where it stopped.
RATIO ?= 0.01
sweep: setup
	@$(ENV) target/release/ganad sweep --classes 0-9 --anomaly-ratio $(RATIO) --seeds 3 --methods gan,classifier,ae:1,random:1 --profile default --out results/sweep-ratio$(RATIO)

## Normal-only (no labelled anomalies): the default recipe against the autoencoder, one seed.
sweep-normal-only: setup
	@$(ENV) target/release/ganad sweep --classes 0-9 --anomaly-ratio 0 --seeds 1 --methods gan,ae --profile default --out results/sweep-ratio0

## The lever ablation on classes 0, 2, 3, 6 × seeds 0-2 (reusing the sweep's identical runs).
ablation: setup
	@$(ENV) target/release/ganad ablation --study levers --classes 0,2,3,6 --seeds 3 --profile default --reuse results/sweep-ratio0.01 --out results/ablation

## The default recipe in the precision `auto` picks against fp32, classes 0 and 6 × seeds 0-2.
precision: setup
	@$(ENV) target/release/ganad ablation --study precision --classes 0,6 --seeds 3 --profile default --reuse results/sweep-ratio0.01 --out results/precision

## Speed against the PyTorch twin and scikit-learn → results/bench.json.
bench: setup
	@$(ENV) target/release/ganad bench

## JupyterLab with the ganad-rust kernel.
lab: setup
	@$(ENV) jupyter lab notebooks
