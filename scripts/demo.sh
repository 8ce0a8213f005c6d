#!/usr/bin/env bash
# The main job: the symmetry prior in one command. Trains a plain CNN and a p4
# group-equivariant CNN of about the same size on upright Fashion-MNIST images,
# then tests both on the test set rotated by every 15 degrees and by random angles.
# Prints a table and writes out/demo/rotation.png (accuracy against angle).
# Arguments go to `gdl train` (e.g. --quiet, --set train.epochs=5).
set -euo pipefail
cd "$(dirname "$0")/.."
gdl=${GDL:-build/gdl}
out=out/demo
mkdir -p "$out"

name() { [ "$1" = cnn ] && echo "plain CNN" || echo "p4 CNN"; }

for m in cnn p4cnn; do
  echo "== training the $(name $m) (configs/demo_$m.ini)"
  "$gdl" train "configs/demo_$m.ini" "$@" | tee "$out/train_$m.log"
done

for m in cnn p4cnn; do
  echo "== testing the $(name $m) on rotated test sets"
  "$gdl" eval "configs/demo_$m.ini" --checkpoint "out/demo_$m/model.safetensors" \
    --rotations 0:375:15 --csv "$out/rotation_$m.csv" >/dev/null
  "$gdl" eval "configs/demo_$m.ini" --checkpoint "out/demo_$m/model.safetensors" \
    --rotations random --csv "$out/random_$m.csv" >/dev/null
done

"$gdl" plot "$out/rotation_cnn.csv" "$out/rotation_p4cnn.csv" --x rotation --y accuracy --scale 100 \
  --labels "plain CNN (14,538 parameters);p4 CNN (14,186 parameters)" \
  --title "Fashion-MNIST test accuracy under rotation (trained upright)" \
  --xlabel "rotation of the test images (degrees)" --ylabel "test accuracy (%)" --output "$out/rotation.png"

# The table: accuracy at a few angles and at random angles, both models.
acc() { awk -F, -v a="$2" '$1 == a { printf "%5.1f", 100 * $2 }' "$1"; }
printf '\n%-10s %8s %8s %8s %8s %8s %8s\n' model upright 45 90 180 270 random
for m in cnn p4cnn; do
  f="$out/rotation_$m.csv"
  printf '%-10s %8s %8s %8s %8s %8s %8s\n' "$(name $m)" "$(acc "$f" 0)" "$(acc "$f" 45)" \
    "$(acc "$f" 90)" "$(acc "$f" 180)" "$(acc "$f" 270)" "$(acc "$out/random_$m.csv" random)"
done
echo
echo "plot: $out/rotation.png   (per-epoch curves: out/demo_cnn/, out/demo_p4cnn/)"
