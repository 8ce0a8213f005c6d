#!/usr/bin/env bash
# Convolution benchmarks (issues 3 and 6): conv2d 64->64 at 56x56, the p4 group
# convolution of the same size and one Fashion-MNIST CNN training step, gdl
# (bench/bench_conv.c) against PyTorch (bench/conv_torch.py) in the same run, with
# the time ratio gdl/torch (goal <= 1.0) and conv GFLOP/s against the machine's
# measured FMA peak (bench/peak.c); the p4 layer also against escnn's R2Conv when
# bench/.venv-escnn exists (bash bench/setup-venv.sh --escnn).
#   bash bench/run_conv.sh [--steps N] [--rounds R]   (about 2 minutes a round)
# The programs run R times (default 3) in turn, gdl, torch, escnn, gdl, ...; each
# reports medians, and the table keeps each one's lowest median over the rounds:
# this host's speed drifts by up to 50% between minutes, and taking every program
# at its best round compares them at the same (quietest) speed.
# Runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from the environment.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
steps=20
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    *) echo "usage: $0 [--steps N] [--rounds R]" >&2; exit 2 ;;
  esac
done
dir=build-bench/blis
cmake -S bench -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$dir" --target peak bench_conv -j "$(nproc)" >/dev/null
py=bench/.venv/bin/python
"$py" -c "import torch" 2>/dev/null || bash bench/setup-venv.sh
clean=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
out=build-bench/results/conv.txt
mkdir -p "$(dirname "$out")"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); gdl $(git rev-parse --short HEAD 2>/dev/null || echo '?'); load $(cut -d' ' -f1-3 /proc/loadavg)"
"${clean[@]}" "$dir/peak" | tee "$out" | grep -v '^PEAK'
esc=bench/.venv-escnn/bin/python # escnn has its own venv (bench/setup-venv.sh --escnn)
"$esc" -c "import escnn" 2>/dev/null || esc=
for r in $(seq "$rounds"); do
  echo "round $r of $rounds"
  "${clean[@]}" "$dir/bench_conv" --steps "$steps" | tee -a "$out" | grep -v '^RESULT'
  "${clean[@]}" "$py" bench/conv_torch.py --steps "$steps" | tee -a "$out" | grep -v '^RESULT'
  [ -z "$esc" ] || "${clean[@]}" "$esc" bench/p4_escnn.py --steps "$steps" 2>/dev/null | tee -a "$out" | grep -v '^RESULT'
done
echo
printf "%-14s %3s %10s %10s %9s %9s %7s %10s\n" case thr "gdl ms" "torch ms" gdl/torch "gdl GF/s" "% peak" gdl/escnn
awk '$1 == "PEAK" && $2 == "f32_avx512" { pk[$3] = $4 }
     $1 == "RESULT" { k = $2 " " $4; if (!(k in seen)) { seen[k] = 1; order[n++] = k }
                      t = $3 " " k; if (!(t in ms) || $5 < ms[t]) { ms[t] = $5; gf[t] = $6 } }
     END { for (i = 0; i < n; i++) { split(order[i], a, " "); g = ms["gdl " order[i]]; t = ms["torch " order[i]]
             f = gf["gdl " order[i]]; e = ms["escnn " order[i]]
             printf "%-14s %3d %10.2f %10.2f %9.2f %9s %7s %10s\n", a[1], a[2], g, t, g / t,
                    (f > 0 ? sprintf("%.1f", f) : "-"), (f > 0 && pk[a[2]] > 0 ? sprintf("%.0f%%", 100 * f / pk[a[2]]) : "-"),
                    (e > 0 ? sprintf("%.2f", g / e) : "-") } }' "$out"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
