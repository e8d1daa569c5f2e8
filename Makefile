# ganad: the two commands of the README's quick start are `make run` and `make test`.
# Both run scripts/setup.sh first, which installs whatever is missing and is quick when nothing is.
SHELL := /bin/bash
ENV := source scripts/env.sh &&
CLASS ?= 0

.PHONY: setup run test test-rust test-notebooks sweep all-classes bench lab

setup:
	@scripts/setup.sh

## Main job: notebooks 01–04 on normal class $(CLASS), default profile → results/reports (HTML + JSON).
run: setup
	@$(ENV) GANAD_PROFILE=default GANAD_CLASS=$(CLASS) scripts/run_notebooks.sh results/reports 01 02 03 04

## Tests: Rust unit and integration tests, then all five notebooks headless in the quick profile.
test: setup test-rust test-notebooks

test-rust:
	@$(ENV) cargo test --release --workspace

test-notebooks:
	@$(ENV) out=$$(mktemp -d) && GANAD_PROFILE=quick scripts/run_notebooks.sh $$out 01 02 03 04 05 && scripts/check_panic_fails.sh

## Notebook 05: the one-vs-rest sweep over all 10 classes (default profile) → results/reports.
all-classes: setup
	@$(ENV) GANAD_PROFILE=default scripts/run_notebooks.sh results/reports 05

## The 10-class sweep from the CLI (RATIO=0.01 by default).
RATIO ?= 0.01
sweep: setup
	@$(ENV) target/release/ganad sweep --classes 0-9 --anomaly-ratio $(RATIO) --seeds 1 --profile default --out results/sweep-ratio$(RATIO)

## JupyterLab with the ganad-rust kernel.
lab: setup
	@$(ENV) jupyter lab notebooks
