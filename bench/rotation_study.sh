#!/usr/bin/env bash
# Issue 6's study: plain, p4, p4m and C8 CNNs of about the same size, trained on
# upright Fashion-MNIST and with random-rotation augmentation, tested upright, at
# multiples of 90 degrees and at random angles. Writes bench/rotation_study.md.
#   bash bench/rotation_study.sh [EPOCHS]      (default 3, as the demo; THREADS=n to set threads)
set -euo pipefail
cd "$(dirname "$0")/.."
gdl=${GDL:-build/gdl}
epochs=${1:-3}
threads=(${THREADS:+--threads "$THREADS"})
out=out/rotation_study
mkdir -p "$out"
report=bench/rotation_study.md
{
  echo "| model | parameters | training | upright | 90° | 180° | 270° | random angle | seconds |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$out/table.md"
for cfg in demo_cnn demo_p4cnn rot_p4mcnn rot_c8cnn; do
  params=$("$gdl" info "configs/$cfg.ini" | awk '/total parameters/ { print $3 }')
  for aug in 0 180; do
    run="$out/${cfg}_rot$aug"
    line=$("$gdl" train "configs/$cfg.ini" --quiet "${threads[@]}" --set train.epochs="$epochs" --set data.augment_rotate=$aug \
      --set train.output="$run" | tail -1)
    secs=$(echo "$line" | sed 's/.*seconds=//')
    "$gdl" eval "configs/$cfg.ini" --checkpoint "$run/model.safetensors" "${threads[@]}" --rotations 0,90,180,270 \
      --csv "$run/rot.csv" >/dev/null
    "$gdl" eval "configs/$cfg.ini" --checkpoint "$run/model.safetensors" "${threads[@]}" --rotations random \
      --csv "$run/random.csv" >/dev/null
    a() { awk -F, -v k="$2" '$1 == k { printf "%.2f", 100 * $2 }' "$1"; }
    train=$([ $aug = 0 ] && echo upright || echo "rotated ±180°")
    echo "| $cfg | $params | $train | $(a "$run/rot.csv" 0) | $(a "$run/rot.csv" 90) | $(a "$run/rot.csv" 180) |" \
      "$(a "$run/rot.csv" 270) | $(a "$run/random.csv" random) | $secs |" >>"$out/table.md"
    tail -1 "$out/table.md"
  done
done
{
  echo "# Rotation study ($(date -u +%Y-%m-%d), $(nproc) cores, $epochs epochs, seed 1)"
  echo
  echo "Command: \`bash bench/rotation_study.sh $epochs\`. Test accuracy (%) on the 10,000 Fashion-MNIST"
  echo "test images, rotated about their centre (bilinear, black outside)."
  echo
  cat "$out/table.md"
} >"$report"
echo "wrote $report"
