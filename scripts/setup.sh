#!/usr/bin/env bash
# Idempotent setup: each step checks first and does nothing when already done.
# Safe to rerun after an interruption. Usage: scripts/setup.sh
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$GANAD_ROOT"
# Each step says when it began, so a slow setup shows where its time went.
step() { printf '\n== %s (at %d s)\n' "$*" "$((SECONDS - t0))"; }
t0=$SECONDS

step "python environment ($GANAD_VENV)"
want_hash=$(sha256sum requirements.txt | cut -c1-16)
if [ -f "$GANAD_VENV/.ganad-requirements" ] && [ "$(cat "$GANAD_VENV/.ganad-requirements")" = "$want_hash" ]; then
  echo "up to date"
else
  command -v python3.11 >/dev/null && PY=python3.11 || PY=python3
  "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), "ganad needs Python 3.11"'
  [ -x "$GANAD_VENV/bin/python" ] || "$PY" -m venv "$GANAD_VENV"
  "$GANAD_VENV/bin/pip" install -q --upgrade pip
  "$GANAD_VENV/bin/pip" install -q -r requirements.txt
  echo "$want_hash" > "$GANAD_VENV/.ganad-requirements"
fi
# The clone sees the cache through ignored links (unless the user made real directories).
[ -e .venv ] || ln -s "$GANAD_VENV" .venv
mkdir -p "$GANAD_CACHE/target"
[ -e target ] || ln -s "$GANAD_CACHE/target" target

step "dataset"
debian=/usr/share/datasets/fashion-mnist
if [ -n "${GANAD_DATA_DIR:-}" ] || [ -f "$debian/t10k-labels-idx1-ubyte.gz" ]; then
  echo "found ${GANAD_DATA_DIR:-$debian}"
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q dataset-fashion-mnist || { apt-get update -q && apt-get install -y -q dataset-fashion-mnist; }
else
  echo "no apt as root here: the official files will be downloaded into the cache after the build"
  export GANAD_DOWNLOAD=1
fi

step "allocator"
# tcmalloc serves libtorch's many small allocations faster than glibc (ganad-core/build.rs).
if ls /usr/lib/*/libtcmalloc_minimal.so.4 /usr/lib64/libtcmalloc_minimal.so.4 >/dev/null 2>&1; then
  echo "tcmalloc present"
elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q libtcmalloc-minimal4 || { apt-get update -q && apt-get install -y -q libtcmalloc-minimal4; }
else
  echo "no tcmalloc and no apt as root: ganad uses glibc's malloc (slower on small batches)"
fi

step "rust toolchain pieces"
for c in rust-src rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
done
if cargo install --list | grep -q "^evcxr_jupyter v$GANAD_EVCXR_VERSION:"; then
  echo "evcxr_jupyter $GANAD_EVCXR_VERSION present"
else
  echo "installing evcxr_jupyter $GANAD_EVCXR_VERSION (10–25 min on 2 cores, once)"
  cargo install --locked evcxr_jupyter --version "$GANAD_EVCXR_VERSION"
fi

step "notebook kernel $GANAD_KERNEL"
kernel_dir="$GANAD_VENV/share/jupyter/kernels/$GANAD_KERNEL"
mkdir -p "$kernel_dir" "$EVCXR_TMPDIR"
# Our own kernelspec (evcxr rewrites its own kernel.json): libtorch must be on LD_LIBRARY_PATH
# before the kernel starts, since a cell's library carries no rpath to it.
"$GANAD_VENV/bin/python" - "$kernel_dir/kernel.json" <<PY
import json, sys, os
spec = {
    "argv": ["$(command -v evcxr_jupyter)", "--control_file", "{connection_file}"],
    "display_name": "Rust (ganad)",
    "language": "rust",
    "env": {
        # The rust sysroot too: a cell library's relative RUNPATH to libstd is off by one
        # directory unless the build dir and rustup's share only "/" as ancestor.
        "LD_LIBRARY_PATH": "$(torch_lib_dir):$(rustc --print target-libdir)",
        "LIBTORCH_USE_PYTORCH": "1",
        "PATH": os.environ["PATH"],  # env.sh put the venv and cargo first
        "EVCXR_TMPDIR": "$EVCXR_TMPDIR",
    },
}
path = sys.argv[1]
old = open(path).read() if os.path.exists(path) else ""
new = json.dumps(spec, indent=2) + "\n"
if old != new:
    open(path + ".tmp", "w").write(new)
    os.replace(path + ".tmp", path)
    print("registered", path)
else:
    print("up to date")
PY

step "cargo build --release"
cargo build --release --quiet
if [ "${GANAD_DOWNLOAD:-}" = 1 ]; then target/release/ganad data check --download; fi
echo "setup done in $((SECONDS - t0)) s"
