#!/usr/bin/env bash
# Installs every Debian package gdl needs to build, test and run the demo.
# Idempotent and non-interactive: packages already present are skipped.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  libblis-openmp-dev       # BLAS (OpenMP flavour: BLAS and gdl share one thread pool)
  libopenblas-openmp-dev   # the alternative BLAS (cmake -DGDL_BLAS=OpenBLAS)
  zlib1g-dev libpng-dev libcjson-dev libfftw3-dev
  dataset-fashion-mnist
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
