#!/usr/bin/env bash
# Creates bench/.venv, the Python environment for benchmarks and fixture
# generation (numpy, torch for CPU, safetensors). Idempotent: an existing venv is
# kept and only missing packages are installed. The build and the tests never
# use it. --escnn makes bench/.venv-escnn instead (torch + escnn, which pins
# numpy < 2 and so cannot share bench/.venv with the other peers). --pyg adds
# torch_geometric and, for its NeighborLoader (bench/run_graph.sh), torch-scatter and
# torch-sparse, built from their PyPI sources against the venv's torch (PyPI has no
# wheels of them; the build takes a while).
#   bash bench/setup-venv.sh [--escnn | --pyg]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = --escnn ]; then
  venv="$root/bench/.venv-escnn"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -c "import escnn" 2>/dev/null ||
    "$venv/bin/python" -m pip --disable-pip-version-check install torch escnn
  exit 0
fi
venv="$root/bench/.venv"
py="$venv/bin/python"

# Another process (a second setup run) may be installing into the venv: wait.
for _ in $(seq 1 180); do
  pgrep -f "bench/.venv/bin/(python|pip)" >/dev/null 2>&1 || break
  echo "setup-venv: waiting for another pip in bench/.venv to finish" >&2
  sleep 5
done

if [ ! -x "$py" ]; then
  python3 -m venv "$venv"
fi

have() { "$py" -c "import $1" >/dev/null 2>&1; }
pip() { "$py" -m pip --disable-pip-version-check "$@"; }

missing=()
for m in numpy safetensors; do have "$m" || missing+=("$m"); done
if [ ${#missing[@]} -gt 0 ]; then
  pip install "${missing[@]}"
fi

# torch: the CPU-only wheel first (the default Linux wheel pulls in CUDA
# libraries); fall back to plain PyPI where that index cannot be reached.
if ! have torch; then
  pip install torch --index-url https://download.pytorch.org/whl/cpu || pip install torch
fi

if [ "${1:-}" = --pyg ]; then
  have torch_geometric || pip install torch_geometric
  have torch_sparse || FORCE_ONLY_CPU=1 pip install --no-build-isolation torch-scatter torch-sparse
fi

"$py" - <<'PY'
import numpy, safetensors, torch
print(f"bench/.venv: numpy {numpy.__version__}, safetensors {safetensors.__version__}, "
      f"torch {torch.__version__}")
PY
