# ganad: the two commands of the README's quick start are `make run` and `make test`.
# Both run scripts/setup.sh first, which installs whatever is missing and is quick when nothing is.
SHELL := /bin/bash
ENV := source scripts/env.sh &&
CLASS ?= 0

.PHONY: setup run test test-rust test-notebooks test-results sweep sweep-normal-only deep-sad-protocol deep-sad-protocol-rotation deep-sad-unlabelled deep-sad-public-code one-class labels-curve ablation precision all-classes bench lab

setup:
	@scripts/setup.sh

## Main job: notebooks 01–04 on normal class $(CLASS), default profile → results/reports (HTML + JSON).
## The one place that replaces the committed report runs (GANAD_REPLACE_RUNS=1).
run: setup
	@$(ENV) GANAD_PROFILE=default GANAD_CLASS=$(CLASS) GANAD_REPLACE_RUNS=1 scripts/run_notebooks.sh results/reports 01 02 03 04

## Tests: Rust unit and integration tests, every committed result recomputed from its Parquet
## scores with scikit-learn, then all five notebooks headless in the quick profile.
test: setup test-rust test-results test-notebooks

test-rust:
	@$(ENV) python scripts/check_imports.py && cargo fmt --all --check && cargo clippy --release --workspace --all-targets --quiet -- -D warnings && cargo test --release --workspace

test-results:
	@$(ENV) python scripts/check_results.py results && python scripts/test_check_results.py

test-notebooks:
	@$(ENV) out=$$(mktemp -d) && GANAD_PROFILE=quick scripts/run_notebooks.sh $$out 01 02 03 04 05 && scripts/check_panic_fails.sh && scripts/check_notebook_scratch.sh

## Notebook 05: the one-vs-rest sweep over all 10 classes (default profile) → results/reports.
all-classes: setup
	@$(ENV) GANAD_PROFILE=default GANAD_REPLACE_RUNS=1 scripts/run_notebooks.sh results/reports 05

## ganad's own protocol, ten classes (RATIO=0.01 by default): the GAN and the classifier over seeds
## 0-2, the autoencoder, the random scorer and Deep SAD on seed 0. Resumes where it stopped. Its
## committed runs reported their best epoch on validation (hence --checkpoint); its summary, like
## every summary, reports each run's last epoch, which every run records.
RATIO ?= 0.01
sweep: setup
	@$(ENV) target/release/ganad sweep --classes 0-9 --anomaly-ratio $(RATIO) --seeds 3 --methods gan,classifier,ae:1,random:1,deep-sad:1 --checkpoint best-validation --profile default --out results/sweep-ratio$(RATIO)

## ganad's own protocol without labelled anomalies: the default recipe against the autoencoder, one seed
## (the one-class protocol below trains on every normal instead).
sweep-normal-only: setup
	@$(ENV) target/release/ganad sweep --classes 0-9 --anomaly-ratio 0 --seeds 1 --methods gan,ae --checkpoint best-validation --profile default --out results/sweep-ratio0

## The field's protocols (docs/protocols.md). Every run reports its last epoch; each sweep resumes
## where it stopped, and shards (`--shard K/N`) split it over processes or cluster jobs.
## Deep SAD's: the 90 (normal, known anomaly) pairs at γ_l = 0.01 with γ_p = 0.1, for the GAN
## (the ganad recipe), Deep SAD and the classifier.
DEEP_SAD_PROTOCOL := --labelled-share 0.01 --pollution 0.1 --validation-share 0 --profile default
deep-sad-protocol: setup
	@$(ENV) target/release/ganad sweep --pairs --classes 0-9 --seeds 1 --methods gan,deep-sad,classifier $(DEEP_SAD_PROTOCOL) --out results/deep-sad-protocol

## The same pairs with the GAN scored by D_N's rotation loss alone, a score frozen in
## results/leads/score-one-known-class before this sweep; training is deep-sad-protocol's, so a
## GAN run of that sweep whose checkpoint is kept can be rescored instead (`ganad rescore`).
ROTATION_SCORE := {"eval": {"score": {"reconstruction": 0, "anomaly_head": 0, "nearest_normals": 0, "discriminator_head": 0, "rotation": 1}}}
deep-sad-protocol-rotation: setup
	@$(ENV) target/release/ganad sweep --pairs --classes 0-9 --seeds 1 --methods gan $(DEEP_SAD_PROTOCOL) --config <(echo '$(ROTATION_SCORE)') --out results/deep-sad-protocol-rotation

## Deep SAD's protocol without labels (γ_l = 0, γ_p = 0.1): Deep SAD is then Deep SVDD-like.
deep-sad-unlabelled: setup
	@$(ENV) target/release/ganad sweep --classes 0-9 --seeds 1 --methods deep-sad --anomaly-ratio 0 --pollution 0.1 --validation-share 0 --profile default --out results/deep-sad-unlabelled

## Ruff et al.'s own procedure (scripts/deep_sad_public_code.py, a PyTorch transcription of their
## code as it runs): ten classes at γ_l = 0 and ten pairs (the next class known) at γ_l = 0.01,
## γ_p = 0.1; about 6 minutes a run on one core.
deep-sad-public-code: setup
	@$(ENV) for g in 0 0.01; do for c in 0 1 2 3 4 5 6 7 8 9; do \
	  python scripts/deep_sad_public_code.py --normal $$c --labelled-share $$g --out results/deep-sad-public-code || exit 1; done; done; \
	  python scripts/deep_sad_public_code.py --summarise results/deep-sad-public-code

## The one-class protocol: all 6,000 training normals, no anomaly data; the GAN (the ganad
## recipe, normal-only) against the autoencoder.
one-class: setup
	@$(ENV) target/release/ganad sweep --classes 0-9 --seeds 3 --methods gan,ae --anomaly-ratio 0 --validation-share 0 --profile default --out results/one-class

## Test AUROC against the number of labelled anomalies on ganad's protocol (classes 0, 2, 4, 6).
LABEL_RATIOS ?= 0 0.001 0.003 0.01 0.03 0.1
LABEL_SEEDS ?= 2
labels-curve: setup
	@$(ENV) for r in $(LABEL_RATIOS); do m=gan,classifier; [ "$$r" = 0 ] && m=gan; \
	  target/release/ganad sweep --classes 0,2,4,6 --seeds $(LABEL_SEEDS) --methods $$m --anomaly-ratio $$r --profile default --out results/labels-curve/ratio$$r || exit 1; done; \
	  target/release/ganad labels-curve results/labels-curve

## The lever ablation on classes 0, 2, 3, 6 × seeds 0-2 (reusing the sweep's identical runs).
ablation: setup
	@$(ENV) target/release/ganad ablation --study levers --classes 0,2,3,6 --seeds 3 --profile default --checkpoint best-validation --reuse results/sweep-ratio0.01 --out results/ablation

## The default recipe in the precision `auto` picks against fp32, classes 0 and 6 × seeds 0-2.
precision: setup
	@$(ENV) target/release/ganad ablation --study precision --classes 0,6 --seeds 3 --profile default --checkpoint best-validation --reuse results/sweep-ratio0.01 --out results/precision

## Speed against the PyTorch twin and scikit-learn → results/bench.json.
bench: setup
	@$(ENV) target/release/ganad bench

## JupyterLab with the ganad-rust kernel.
lab: setup
	@$(ENV) jupyter lab notebooks
