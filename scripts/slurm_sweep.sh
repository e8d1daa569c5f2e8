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
# login node (`make setup`); tasks build nothing.
#
# Time limits and preemption: Slurm signals the task 5 minutes before its limit (--signal), and
# preempts with SIGTERM; ganad then writes a checkpoint at the step it reached and exits, and the
# task requeues itself (--requeue), so the same command continues from that step. Finished runs
# are kept, a run directory is locked while a process trains into it, and a resubmitted array
# completes whatever is missing.
#SBATCH --job-name=ganad-sweep
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=04:00:00
#SBATCH --signal=B:TERM@300
#SBATCH --requeue
#SBATCH --open-mode=append
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
# In the background, so that the shell can pass the signal on and wait for the checkpoint.
# shellcheck disable=SC2086
target/release/ganad sweep $args --out "$out" --shard "$index/$count" &
pid=$!
stopped=0
trap 'stopped=1; kill -TERM "$pid" 2>/dev/null || true' TERM INT
status=0
while kill -0 "$pid" 2>/dev/null; do wait "$pid" || status=$?; done
if [ "$stopped" = 1 ]; then
  echo "stopped near the time limit or preempted (ganad exited $status after its checkpoint): requeueing"
  scontrol requeue "$SLURM_JOB_ID"
  exit 0
fi
[ "$status" = 0 ] || exit "$status"
if [ "${SUBMIT_COLLECT:-0}" = 1 ] && [ "$index" = 1 ]; then
  sbatch --dependency="afterok:$SLURM_ARRAY_JOB_ID" --job-name=ganad-collect --wrap "target/release/ganad sweep --collect $out"
fi
