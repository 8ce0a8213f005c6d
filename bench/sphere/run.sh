#!/usr/bin/env bash
# Sphere benchmarks (issue 5): gdl's SHT against ducc0, healpy and ssht, forward and
# inverse, spin 0 and 2, 1 and 2 threads, in the same run; prints a markdown table.
#
#   bash bench/sphere/run.sh [Ls] [threads] [samplings]
#   defaults: 256,512,1024,2048  1,2  gl,mw,healpix
# Builds bench/sphere/CMakeLists.txt (gdl's static library, Release, gdl's own flags,
# with bench_sht and bench/peak.c) in build-bench-sphere/; the peers run from bench/.venv
# (bench/.venv/bin/pip install ducc0 healpy pyssht). OpenBLAS' OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE are removed from every benchmark command's environment.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$root/build-bench-sphere"
cmake -S "$root/bench/sphere" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j2 --target bench_sht peak > /dev/null
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }
peak=$(run "$build/peak" 1 | awk '$1 == "PEAK" && $2 ~ /f64/ && $3 == 1 {print $4; exit}')
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; float64 peak of one core: ${peak} GFLOP/s"
echo "date: $(date -u +%Y-%m-%d), command: bash bench/sphere/run.sh $*"
run "$root/bench/.venv/bin/python" "$root/bench/sphere/sht_peers.py" "$build/bench_sht" "$peak" \
  "${1:-256,512,1024,2048}" "${2:-1,2}" "${3:-gl,mw,healpix}"
