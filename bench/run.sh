#!/usr/bin/env bash
# Builds and runs gdl's core benchmarks and prints the figures bench/RESULTS.md
# records: the machine's peak (FLOP/s, memory bandwidth), gdl_matmul against
# that peak, against its BLAS called directly and against torch.matmul, and one
# MLP training step against PyTorch (the ratio gdl time / torch time).
#
#   bash bench/run.sh [--quick]     (about 15 minutes on 2 cores; --quick: 3)
#   BENCH_ROUNDS=n                   rounds (default 2, --quick 1)
#   BENCH_BLAS="BLIS OpenBLAS"       gdl builds to compare (its GDL_BLAS option;
#                                    default both, the first is gdl's default)
#   BENCH_QUIET_WAIT=s               see wait_quiet below
#
# Builds gdl's static library and the bench programs from bench/CMakeLists.txt
# (a separate CMake project: Release, gdl's own flags, no tests, no command) in
# build-bench/<blas>/; the bench programs are not part of the main CMake build
# or of ctest. The Python peers run from bench/.venv (bench/setup-venv.sh).
#
# OpenBLAS: every benchmark command runs with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE removed from its environment (env -u ...), whatever the
# calling shell sets. When the calling environment does set either, the gdl
# matmul and MLP benchmarks of the OpenBLAS build also run with them as set
# ("openblas-env-as-set"); PyTorch uses MKL and does not read them.
# Diagnostic (opt-in): BENCH_OPENBLAS_CORETYPE=SkylakeX bash bench/run.sh also
# runs the OpenBLAS build with OPENBLAS_CORETYPE set to that value for those
# commands only (Debian's OpenBLAS 0.3.21 does not know this CPU model, family 6
# model 207, and falls back to its generic 'Prescott' SSE3 kernels).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-bench"
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
# One build per BLAS backend gdl supports (its CMake option GDL_BLAS), from
# bench/CMakeLists.txt: build-bench/<blas>/. BENCH_BLAS picks them.
blases=(${BENCH_BLAS:-BLIS OpenBLAS})
for blas in "${blases[@]}"; do
  dir="$build/$(echo "$blas" | tr 'A-Z' 'a-z')"
  cmake -S "$root/bench" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DGDL_BLAS="$blas" >/dev/null
  cmake --build "$dir" --target peak bench_matmul bench_mlp -j "$(nproc)" >/dev/null
done
bin="$build/$(echo "${blases[0]}" | tr 'A-Z' 'a-z')" # for peak

py="$root/bench/.venv/bin/python"
if ! "$py" -c "import torch" >/dev/null 2>&1; then
  bash "$root/bench/setup-venv.sh"
fi

# ---- run ------------------------------------------------------------------------
clean=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

# Other work on the machine (builds, fuzzers) ruins the 2-thread figures: an
# OpenMP barrier waits for a thread that is not running. Before each section,
# wait (up to BENCH_QUIET_WAIT seconds, default 120) until the CPUs are idle
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
  local limit=${BENCH_QUIET_WAIT:-120} waited=0 b
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
if git -C "$root" rev-parse --short HEAD >/dev/null 2>&1; then
  echo "gdl: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || echo ' (src/include with uncommitted changes)')"
else
  echo "gdl: ${BENCH_GDL_REV:-? (not a git checkout; BENCH_GDL_REV names it)}"
fi
echo "calling environment: $(env | grep -E '^(OPENBLAS_|BLIS_|OMP_|GOMP_)' | tr '\n' ' ' || true)"
[ -z "$(env | grep -E '^OPENBLAS_(CORETYPE|L2_SIZE)=' || true)" ] && echo "  (OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are not set)"
echo "benchmarks run with: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the 2-thread figures)"

# Rounds: each round runs every benchmark once, gdl and torch alternating, so
# that both see the same conditions; the summary keeps, per case, the best
# round (highest GFLOP/s, lowest median ms) and shows the spread of the MLP
# medians. Within a round every figure is itself a median of repeats.
rounds=${BENCH_ROUNDS:-2}
[ -n "$quick" ] && rounds=${BENCH_ROUNDS:-1}
# A variant: tag|build directory|command prefix.
variants=()
for blas in "${blases[@]}"; do
  b="$(echo "$blas" | tr 'A-Z' 'a-z')"
  variants+=("$b|$build/$b|${clean[*]}")
  if [ "$b" = openblas ]; then
    if env | grep -qE '^OPENBLAS_(CORETYPE|L2_SIZE)='; then
      variants+=("openblas-env-as-set|$build/$b|env")
    fi
    if [ -n "${BENCH_OPENBLAS_CORETYPE:-}" ]; then
      variants+=("openblas-coretype-$BENCH_OPENBLAS_CORETYPE|$build/$b|env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=$BENCH_OPENBLAS_CORETYPE")
    fi
  fi
done
rm -f "$out"/*.txt
for r in $(seq 1 "$rounds"); do
  echo; echo "######## round $r of $rounds"
  echo; echo "== peak"
  wait_quiet
  "${clean[@]}" "$bin/peak" | tee -a "$out/peak.txt" | grep -v '^PEAK'
  for v in "${variants[@]}"; do
    IFS='|' read -r tag vbin vcmd <<<"$v"
    read -r -a runner <<<"$vcmd"
    echo; echo "== matmul (gdl; BLAS direct) [$tag: $vcmd]"
    wait_quiet
    "${runner[@]}" "$vbin/bench_matmul" $quick | tee -a "$out/matmul.$tag.txt" | grep -v '^RESULT'
  done
  echo; echo "== matmul (torch)"
  wait_quiet
  "${clean[@]}" "$py" "$root/bench/matmul_torch.py" $quick | tee -a "$out/matmul_torch.txt" | grep -v '^RESULT'
  for v in "${variants[@]}"; do
    IFS='|' read -r tag vbin vcmd <<<"$v"
    read -r -a runner <<<"$vcmd"
    echo; echo "== MLP training step (gdl) [$tag: $vcmd]"
    wait_quiet
    "${runner[@]}" "$vbin/bench_mlp" --steps "$steps" --warmup "$warmup" \
      | tee -a "$out/mlp.$tag.txt" | grep -v '^RESULT'
  done
  echo; echo "== MLP training step (torch)"
  wait_quiet
  "${clean[@]}" "$py" "$root/bench/mlp_torch.py" --steps "$steps" --warmup "$warmup" \
    | tee -a "$out/mlp_torch.txt" | grep -v '^RESULT'
done

# ---- summary ----------------------------------------------------------------------
echo; echo "== summary ($rounds round(s); best round per case)"
awk '$1 == "PEAK" { k = $2 " " $3; if ($4 > best[k]) best[k] = $4; if (!(k in seen)) { seen[k] = 1; order[n++] = k } }
     END { for (i = 0; i < n; i++) { split(order[i], a, " ")
             if (a[1] ~ /avx512|gbs|clock/)
               printf "peak %-11s %s thread%s: %8.2f %s\n", a[1], a[2], (a[2] > 1 ? "s" : " "), best[order[i]],
                      (a[1] ~ /gbs/ ? "GB/s" : (a[1] ~ /clock/ ? "GHz" : "GFLOP/s")) } }' "$out/peak.txt"
for v in "${variants[@]}"; do
  IFS='|' read -r tag vbin vcmd <<<"$v"
  echo
  echo "matmul [$tag: $vcmd]; % of the FMA peak above at the same thread count"
  printf "%-8s %-15s %3s %9s %7s %10s %10s %9s\n" dtype "M x K x N" thr "gdl GF/s" "% peak" "blas GF/s" "torch GF/s" "gdl/torch"
  awk 'FILENAME ~ /peak/ { if ($1 == "PEAK" && $4 > pk[$2 " " $3]) pk[$2 " " $3] = $4; next }
       FILENAME ~ /matmul_torch/ { if ($1 == "RESULT" && $6 > t[$3 " " $4 " " $5]) t[$3 " " $4 " " $5] = $6; next }
       $1 == "RESULT" { k = $3 " " $4 " " $5
         if (!(k in g)) order[n++] = k
         if ($6 > g[k]) g[k] = $6
         if ($7 > c[k]) c[k] = $7 }
       END { for (i = 0; i < n; i++) { k = order[i]; split(k, a, " ")
               p = pk[(a[1] == "float32" ? "f32_avx512" : "f64_avx512") " " a[3]]
               tt = (k in t) ? t[k] : 0
               printf "%-8s %-15s %3d %9.1f %6.1f%% %10.1f %10.1f %9s\n", a[1], a[2], a[3], g[k],
                      (p > 0 ? 100 * g[k] / p : 0), c[k], tt, (tt > 0 ? sprintf("%.2f", tt / g[k]) : "-") } }' \
    "$out/peak.txt" "$out/matmul_torch.txt" "$out/matmul.$tag.txt"
done
echo "(gdl/torch for matmul is the time ratio, torch GFLOP/s / gdl GFLOP/s)"
for v in "${variants[@]}"; do
  IFS='|' read -r tag vbin vcmd <<<"$v"
  echo
  echo "MLP training step [$tag: $vcmd]: median ms per step, best round (all rounds)"
  awk 'FILENAME ~ /mlp_torch/ { if ($1 != "RESULT") next; k = $3 " " $4 }
       FILENAME !~ /mlp_torch/ { if ($1 != "RESULT") next; k = "gdl " $4 }
       { if (!(k in best) || $5 < best[k]) { best[k] = $5; ph[k] = sprintf("fwd %.2f loss %.2f bwd %.2f optim %.2f zero %.2f", $6, $7, $8, $9, $10) }
         all[k] = all[k] (all[k] == "" ? "" : " ") sprintf("%.2f", $5)
         thr[$4] = 1 }
       END { for (t = 1; t <= 1024; t++) { if (!(t in thr)) continue
               g = "gdl " t; tn = "torch " t; tz = "torch-zeros " t
               if (!(g in best)) continue
               printf "  %d thread%s: gdl %.2f ms (%s)  [%s]\n", t, (t > 1 ? "s" : " "), best[g], all[g], ph[g]
               if (tn in best) printf "             torch, zero_grad() default (set_to_none=True) %.2f ms (%s)  [%s]\n", best[tn], all[tn], ph[tn]
               if (tz in best) printf "             torch, zero_grad(set_to_none=False)          %.2f ms (%s)  [%s]\n", best[tz], all[tz], ph[tz]
               if (tn in best) printf "             ratio gdl/torch = %.2f (vs default zero_grad)", best[g] / best[tn]
               if (tz in best) printf ", %.2f (vs set_to_none=False)", best[g] / best[tz]
               printf "\n" } }' "$out/mlp.$tag.txt" "$out/mlp_torch.txt"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "raw outputs: $out/"
