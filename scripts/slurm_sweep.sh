#!/usr/bin/env bash
# A ganad sweep as a Slurm job array: each array task runs one fixed, disjoint shard of the
# (class, seed, method) grid; a last job, once they are all done, collects the summary.
#
#   sbatch --array=1-16 scripts/slurm_sweep.sh results/sweep-cluster          # 16 shards
#   sbatch --dependency=afterok:<array job id> --wrap "target/release/ganad sweep --collect results/sweep-cluster"
#
# Or let the script submit the collect job itself: SUBMIT_COLLECT=1 sbatch --array=1-16 ...
# Extra `ganad sweep` flags go in SWEEP_ARGS (default: the README's 3-seed sweep). Every task
# must see the same checkout and output directory (a shared filesystem). Build once first on a
# login node (`make setup`); tasks build nothing. A task that is killed resumes its runs when the
# array is resubmitted: finished runs are kept, interrupted ones continue from their checkpoint.
#SBATCH --job-name=ganad-sweep
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --output=ganad-sweep-%A_%a.log
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}"
out=${1:?usage: sbatch --array=1-N scripts/slurm_sweep.sh OUT_DIR}
: "${SLURM_ARRAY_TASK_ID:?run this with sbatch --array=1-N}"
count=${SLURM_ARRAY_TASK_COUNT:-$((SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN + 1))}
# Task IDs from 1: shard K of N is task K (an array from 0 would shift by one).
index=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-1} + 1))
args=${SWEEP_ARGS:---classes 0-9 --anomaly-ratio 0.01 --seeds 3 --methods gan,classifier,ae:1,random:1 --profile default}
# libtorch sizes its thread pool from OMP_NUM_THREADS: one thread per CPU Slurm gave the task.
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-4}
# shellcheck disable=SC2086
target/release/ganad sweep $args --out "$out" --shard "$index/$count"
if [ "${SUBMIT_COLLECT:-0}" = 1 ] && [ "$index" = 1 ]; then
  sbatch --dependency="afterok:$SLURM_ARRAY_JOB_ID" --job-name=ganad-collect --wrap "target/release/ganad sweep --collect $out"
fi
