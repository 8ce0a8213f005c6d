#!/usr/bin/env bash
# Builds and runs gdl's core benchmarks and prints the figures bench/RESULTS.md
# records: the machine's peak (FLOP/s, memory bandwidth), gdl_matmul against
# that peak, against OpenBLAS called directly and against torch.matmul, and one
# MLP training step against PyTorch (the ratio gdl time / torch time).
#
#   bash bench/run.sh [--quick]
#
# Builds the static library only (build-bench/, Release, no tests, no command)
# and compiles the bench programs against it with the build's flags; the bench
# programs are not part of the main CMake build or of ctest. The Python peers
# run from bench/.venv (bench/setup-venv.sh makes it).
#
# OpenBLAS: every benchmark command runs with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE removed from its environment (env -u ...), whatever the
# calling shell sets. When the calling environment does set either, the matmul
# and MLP benchmarks run a second time with them as set, for comparison.
# Diagnostic (opt-in): BENCH_OPENBLAS_CORETYPE=SkylakeX bash bench/run.sh runs
# the matmul and MLP benchmarks once more with OPENBLAS_CORETYPE set to that
# value for those commands only (OpenBLAS 0.3.21 does not know this CPU model
# and falls back to a generic kernel; this shows what its AVX-512 kernel gives).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-bench"
bin="$build/bench"
quick=""
steps=200
warmup=20
for a in "$@"; do
  case "$a" in
    --quick) quick="--quick"; steps=50; warmup=10 ;;
    *) echo "usage: bash bench/run.sh [--quick]" >&2; exit 2 ;;
  esac
done

# ---- build --------------------------------------------------------------------
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGDL_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target gdl_static -j "$(nproc)" >/dev/null
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
blas_inc="$(cache CBLAS_INCLUDE_DIR)"
blas_lib="$(cache BLAS_LIBRARY)"
cjson_inc="$(cache CJSON_INCLUDE_DIR)"
mkdir -p "$bin"
cflags=(-std=gnu11 -O2 -march=native -fopenmp -Wall -Wextra -Wno-unused-parameter
        -I"$root/include" -I"$root/src" -I"$blas_inc" -I"$cjson_inc")
libs=("$build/libgdl.a" -fopenmp "$blas_lib" -lcjson -lpng -lz -lm)
for p in peak bench_matmul bench_mlp; do
  cc "${cflags[@]}" "$root/bench/$p.c" "${libs[@]}" -o "$bin/$p"
done

py="$root/bench/.venv/bin/python"
if ! "$py" -c "import torch" >/dev/null 2>&1; then
  bash "$root/bench/setup-venv.sh"
fi

# ---- run ------------------------------------------------------------------------
clean=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

# Other work on the machine (builds, fuzzers) ruins the 2-thread figures: an
# OpenMP barrier waits for a thread that is not running. Before each section,
# wait (up to BENCH_QUIET_WAIT seconds, default 300) until the CPUs are idle
# for a second (under 15% of one core busy), and say so when they never were.
busy_pct() { # percent of one core busy over 1 s, all CPUs together
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat)
  sleep 1
  read -r -a b < <(grep '^cpu ' /proc/stat)
  local ta=0 tb=0 i
  for i in 1 2 3 4 5 6 7 8; do ta=$((ta + a[i])); tb=$((tb + b[i])); done
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=$((tb - ta)) n
  n=$(nproc)
  [ "$total" -gt 0 ] || { echo 0; return; }
  echo $(( (total - idle) * 100 * n / total ))
}
wait_quiet() {
  local limit=${BENCH_QUIET_WAIT:-300} waited=0 b
  while b=$(busy_pct); [ "$b" -ge 15 ]; do
    if [ "$waited" -ge "$limit" ]; then
      echo "(warning: the machine is busy, ${b}% of a core in use by other processes; figures may be skewed)"
      ps -eo pcpu,comm --sort=-pcpu | sed -n '2,4p' | sed 's/^/  busy: /'
      return
    fi
    waited=$((waited + 1))
  done
  [ "$waited" -gt 0 ] && echo "(waited ${waited}s for other processes to finish)"
  return 0
}
out="$build/results"
mkdir -p "$out"

echo "== machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores," \
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
echo "compiler: $(cc --version | head -1)"
echo "gdl: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "calling environment: $(env | grep '^OPENBLAS_' | tr '\n' ' ' || true)"
[ -z "$(env | grep -E '^OPENBLAS_(CORETYPE|L2_SIZE)=' || true)" ] && echo "  (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are not set)"
echo "benchmarks run with: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the 2-thread figures)"

echo; echo "== peak"
wait_quiet
"${clean[@]}" "$bin/peak" | tee "$out/peak.txt" | grep -v '^PEAK'

echo; echo "== matmul (gdl, OpenBLAS direct)"
wait_quiet
"${clean[@]}" "$bin/bench_matmul" $quick | tee "$out/matmul.txt" | grep -v '^RESULT'
echo; echo "== matmul (torch)"
wait_quiet
"${clean[@]}" "$py" "$root/bench/matmul_torch.py" $quick | tee "$out/matmul_torch.txt" | grep -v '^RESULT'

echo; echo "== MLP training step (gdl)"
wait_quiet
"${clean[@]}" "$bin/bench_mlp" --steps "$steps" --warmup "$warmup" | tee "$out/mlp.txt" | grep -v '^RESULT'
echo; echo "== MLP training step (torch)"
wait_quiet
"${clean[@]}" "$py" "$root/bench/mlp_torch.py" --steps "$steps" --warmup "$warmup" \
  | tee "$out/mlp_torch.txt" | grep -v '^RESULT'

# Optional extra passes: with the calling environment's OPENBLAS_* variables,
# and with a diagnostic OPENBLAS_CORETYPE (each for those commands only).
extra=()
if env | grep -qE '^OPENBLAS_(CORETYPE|L2_SIZE)='; then
  extra+=("env-as-set|env")
fi
if [ -n "${BENCH_OPENBLAS_CORETYPE:-}" ]; then
  extra+=("coretype-$BENCH_OPENBLAS_CORETYPE|env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=$BENCH_OPENBLAS_CORETYPE")
fi
for e in "${extra[@]+"${extra[@]}"}"; do
  tag="${e%%|*}"
  read -r -a runner <<<"${e#*|}"
  echo; echo "== [$tag] matmul (gdl, OpenBLAS direct), run with: ${e#*|}"
  wait_quiet
  "${runner[@]}" "$bin/bench_matmul" $quick | tee "$out/matmul.$tag.txt" | grep -v '^RESULT'
  echo; echo "== [$tag] MLP training step (gdl), run with: ${e#*|}"
  wait_quiet
  "${runner[@]}" "$bin/bench_mlp" --steps "$steps" --warmup "$warmup" | tee "$out/mlp.$tag.txt" | grep -v '^RESULT'
done

# ---- summary ----------------------------------------------------------------------
echo; echo "== summary"
awk '$1 == "PEAK" && $2 ~ /avx512|triad/ {
       printf "peak %-11s %s thread%s: %8.1f %s\n", $2, $3, ($3 > 1 ? "s" : " "), $4,
              ($2 ~ /gbs/ ? "GB/s" : "GFLOP/s") }' "$out/peak.txt"
echo
printf "%-8s %-15s %3s %9s %7s %9s %9s %10s\n" dtype "M x K x N" thr "gdl GF/s" "% peak" "blas GF/s" "torch GF/s" "gdl/torch"
awk 'FNR == NR { if ($1 == "RESULT") t[$3 " " $4 " " $5] = $6; next }
     $1 == "RESULT" { k = $3 " " $4 " " $5; tt = (k in t) ? t[k] : 0
       printf "%-8s %-15s %3d %9.1f %6.1f%% %9.1f %9.1f %10s\n", $3, $4, $5, $6, 100 * $6 / $8, $7, tt,
              (tt > 0 ? sprintf("%.2f", tt / $6) : "-") }' "$out/matmul_torch.txt" "$out/matmul.txt"
echo "(gdl/torch for matmul is a time ratio: torch GFLOP/s / gdl GFLOP/s)"
echo
awk 'FNR == NR { if ($1 == "RESULT") g[$4] = $5; next }
     $1 == "RESULT" && ($3 == "torch" || $3 == "torch-zeros") && ($4 in g) {
       printf "MLP step, %d thread%s: gdl %.2f ms, %s %.2f ms, ratio gdl/torch = %.2f\n",
              $4, ($4 > 1 ? "s" : ""), g[$4], ($3 == "torch" ? "torch (zero_grad set_to_none=True, default)" : "torch (zero_grad set_to_none=False)"),
              $5, g[$4] / $5 }' "$out/mlp.txt" "$out/mlp_torch.txt"
for e in "${extra[@]+"${extra[@]}"}"; do
  tag="${e%%|*}"
  awk -v tag="$tag" 'FNR == NR { if ($1 == "RESULT") g[$4] = $5; next }
     $1 == "RESULT" && $3 == "torch" && ($4 in g) {
       printf "[%s] MLP step, %d thread%s: gdl %.2f ms, torch (default) %.2f ms, ratio = %.2f\n",
              tag, $4, ($4 > 1 ? "s" : ""), g[$4], $5, g[$4] / $5 }' "$out/mlp.$tag.txt" "$out/mlp_torch.txt"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "raw outputs: $out/"
