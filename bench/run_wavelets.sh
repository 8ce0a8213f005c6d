#!/usr/bin/env bash
# Multiscale benchmark (issue 3): gdl's 2-D DWT against PyWavelets and its 2-D
# scattering transform against Kymatio (torch frontend, CPU), same machine, same
# run, same cases; prints the ratios (peer time / gdl time: > 1 means gdl is
# faster) that bench/RESULTS.md records.
#
#   bash bench/run_wavelets.sh [--quick]
#
# Builds gdl's static library and bench/multiscale/bench_wavelets in
# build-bench-wav/ (Release). The peers run from bench/.venv with pywavelets and
# kymatio installed (bench/.venv/bin/pip install pywavelets kymatio).
# Every benchmark command runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed
# from its environment.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-bench-wav"
quick=""
for a in "$@"; do
  case "$a" in
    --quick) quick="--quick" ;;
    *) echo "usage: bash bench/run_wavelets.sh [--quick]" >&2; exit 2 ;;
  esac
done

cmake -S "$root/bench/multiscale" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bench_wavelets -j "$(nproc)" >/dev/null
py="$root/bench/.venv/bin/python"
if ! "$py" -c "import pywt, kymatio, torch" >/dev/null 2>&1; then
  echo "bench/.venv lacks pywavelets/kymatio/torch: bash bench/setup-venv.sh;" \
       "bench/.venv/bin/pip install pywavelets kymatio" >&2
  exit 1
fi

clean=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
threads="1,$(nproc)"
[ "$(nproc)" -eq 1 ] && threads=1
out="$build/results"
mkdir -p "$out"

echo "== machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores"
echo "gdl: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD -- src include 2>/dev/null || echo ' (with uncommitted changes)')"
echo "peers: $("$py" -c 'import pywt, kymatio, torch; print("pywavelets", pywt.__version__, "kymatio", kymatio.__version__, "torch", torch.__version__)')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

"${clean[@]}" "$build/bench_wavelets" $quick --threads "$threads" | tee "$out/gdl.txt" >/dev/null
"${clean[@]}" "$py" "$root/bench/multiscale/peers.py" $quick --threads "$threads" | tee "$out/peers.txt" >/dev/null

echo
echo "== times (best of the repetitions, seconds per call; median in brackets) and ratios"
echo "   (peer best / gdl best: > 1 means gdl is faster)"
printf "%-30s %3s %22s %22s %7s\n" case thr "gdl s (median)" "peer s (median)" ratio
awk 'FNR == NR { if ($1 == "RESULT") { g[$2 " " $3] = $5; gm[$2 " " $3] = $4 } next }
     $1 == "RESULT" && (($2 " " $3) in g) { k = $2 " " $3
       printf "%-30s %3d %10.4g (%9.4g) %10.4g (%9.4g) %7.2f\n", $2, $3, g[k], gm[k], $5, $4, $5 / g[k] }' \
  "$out/gdl.txt" "$out/peers.txt"
echo "(dwt: pywt.wavedec2 / pywt.waverec2 of one image, float64 unless f32; scat: Kymatio"
echo " Scattering2D(J, (M, M), L=8, max_order=2) of a float32 batch B, torch CPU threads = gdl threads)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
