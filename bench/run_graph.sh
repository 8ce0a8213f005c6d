#!/usr/bin/env bash
# Graph benchmarks of issue 4: gdl (bench/bench_graph.c) against PyTorch Geometric
# (bench/graph_pyg.py) in the same run, and the machine's memory bandwidth
# (bench/peak.c) for the gSpMM fraction. Prints the ratios bench/RESULTS.md records.
# PyG comes from bench/.venv: bash bench/setup-venv.sh --pyg (NeighborLoader's
# sampling needs torch-sparse, which that builds).
#   bash bench/run_graph.sh [--quick] [--threads 1,2]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-bench-graph"
bin="$build/bench"
args=()
threads="1,2"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) args+=(--quick) ;;
    --threads) threads="$2"; shift ;;
    *) echo "usage: bash bench/run_graph.sh [--quick] [--threads 1,2]" >&2; exit 2 ;;
  esac
  shift
done
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGDL_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target gdl_cli -j "$(nproc)" >/dev/null
# link like the gdl command does (whatever BLAS, FFTW, ... the build found)
read -r -a libs <<<"$(sed -e 's/.* -o gdl //' "$build/CMakeFiles/gdl_cli.dir/link.txt")"
libs=("${libs[@]/#libgdl.a/$build/libgdl.a}")
mkdir -p "$bin"
cflags=(-std=gnu11 -O2 -march=native -fopenmp -I"$root/include" -I"$root/src")
cc "${cflags[@]}" "$root/bench/bench_graph.c" "${libs[@]}" -o "$bin/bench_graph"
cc "${cflags[@]}" "$root/bench/peak.c" -o "$bin/peak" -lm
clean=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
out="$build/results"
mkdir -p "$out"
cd "$root"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"${clean[@]}" "$bin/peak" | tee "$out/peak.txt" | grep -E "triad|read" || true
"${clean[@]}" "$bin/bench_graph" --threads "$threads" "${args[@]}" | tee "$out/gdl.txt" | grep -v '^RESULT'
"${clean[@]}" "$root/bench/.venv/bin/python" "$root/bench/graph_pyg.py" --threads "$threads" "${args[@]}" 2>/dev/null \
  | tee "$out/pyg.txt" | grep -v '^RESULT'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ratios (gdl time / PyG time; gSpMM as a fraction of the triad bandwidth)"
awk 'FNR == 1 { f++ } $1 == "RESULT" { v[f, $2, $3] = $4 } $1 == "PEAK" && $2 == "triad_gbs" { bw[$3] = $4 }
     END { for (k in v) { split(k, p, SUBSEP); if (p[1] != 2) continue; w = p[2]; t = p[3]
             if (w == "spmm_gbs") continue
             if ((1, w, t) in v) {
               if (w ~ /seeds/) printf "%-22s %s threads: gdl %.1f, PyG %.1f seeds/s: gdl/PyG throughput %.2f\n", w, t, v[1, w, t], v[2, w, t], v[1, w, t] / v[2, w, t]
               else printf "%-22s %s threads: gdl %.4g, PyG %.4g: ratio gdl/PyG = %.2f\n", w, t, v[1, w, t], v[2, w, t], v[1, w, t] / v[2, w, t] } }
           for (k in v) { split(k, p, SUBSEP); if (p[1] == 3 && p[2] == "spmm_gbs") { t = p[3]; b = (t in bw) ? bw[t] : 0
               printf "gSpMM %s threads: %.1f GB/s = %.0f%% of the triad bandwidth (%.1f GB/s)\n", t, v[3, "spmm_gbs", t], b ? 100 * v[3, "spmm_gbs", t] / b : 0, b } } }' \
  "$out/gdl.txt" "$out/pyg.txt" "$out/gdl.txt" "$out/peak.txt" 2>/dev/null || true
echo "raw outputs: $out/"
