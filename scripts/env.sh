# Sourced by the Makefile and scripts: where ganad keeps its environment.
# Everything heavy lives in a cache outside the clone (GANAD_CACHE), shared by clones and CI runs;
# the clone sees it through the ignored links .venv and target.
GANAD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GANAD_CACHE="${GANAD_CACHE:-$HOME/.cache/ganad}"
export GANAD_VENV="$GANAD_CACHE/venv"
case ":$PATH:" in
  *":$GANAD_VENV/bin:"*) ;;
  # cargo install puts evcxr_jupyter in CARGO_INSTALL_ROOT's bin when that is set.
  *) export PATH="$GANAD_VENV/bin:${CARGO_INSTALL_ROOT:+$CARGO_INSTALL_ROOT/bin:}$HOME/.cargo/bin:$PATH" ;;
esac
# tch's build finds libtorch inside the torch wheel of the venv's python.
export LIBTORCH_USE_PYTORCH=1
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$GANAD_CACHE/pip}"
# Notebook kernels build their dependencies here; persistent, so a warm start takes seconds.
export EVCXR_TMPDIR="$GANAD_CACHE/evcxr"
export GANAD_EVCXR_VERSION=0.22.0
export GANAD_KERNEL=ganad-rust
torch_lib_dir() { echo "$GANAD_VENV/lib/python3.11/site-packages/torch/lib"; }
