#!/usr/bin/env bash
# Runs each graph accuracy config of docs/graphs.md over seeds 1..N (default 10) and
# prints mean and standard deviation of the final test_accuracy lines.
#   bash scripts/graph-accuracy.sh [N] [config ...]
# Needs build-graph/gdl (cmake -S . -B build-graph && cmake --build build-graph).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
n="${1:-10}"
shift || true
configs=("$@")
[ ${#configs[@]} -eq 0 ] && configs=(configs/gcn_cora.ini configs/gcn_citeseer.ini configs/gat_cora.ini
                                     configs/gin_mutag.ini configs/gin_proteins.ini)
gdl="${GDL:-build-graph/gdl}"
for c in "${configs[@]}"; do
  name="$(basename "$c" .ini)"
  log="out/accuracy/$name.txt"
  mkdir -p out/accuracy
  : > "$log"
  for s in $(seq 1 "$n"); do
    "$gdl" train "$c" --quiet --threads "${THREADS:-1}" --set train.seed="$s" \
      --set train.output="out/accuracy/$name-seed$s" | tail -1 | sed "s/^/seed=$s /" | tee -a "$log"
  done
  awk -v name="$name" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
       a[NR] = v["test_accuracy"]; g[NR] = v["gin_protocol_accuracy"]; s += v["seconds"] }
       END { n = NR; for (i = 1; i <= n; i++) m += a[i] / n; for (i = 1; i <= n; i++) q += (a[i] - m) ^ 2
             printf "%s: test accuracy %.2f +- %.2f %% over %d seeds", name, 100 * m, 100 * sqrt(q / n), n
             if (g[1] != "") { for (i = 1; i <= n; i++) mg += g[i] / n; for (i = 1; i <= n; i++) qg += (g[i] - mg) ^ 2
                               printf "; GIN protocol %.2f +- %.2f %%", 100 * mg, 100 * sqrt(qg / n) }
             printf " (%.1f s per run)\n", s / n }' "$log" | tee -a out/accuracy/summary.txt
done
