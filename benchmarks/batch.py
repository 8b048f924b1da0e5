"""Batch throughput: 100 photos one at a time (decode -> infer -> encode) vs the batch runner,
which decodes and encodes on worker threads while the model runs.

    python benchmarks/batch.py [--count 100] [--side 640] [--format jpeg] [--rounds 2]

Photos are the dataset's (../shared/datasets/content, on dev/CI machines) scaled to `--side`
px on their longer side and written as JPEG; without the dataset, synthetic photos of that
size. Three ways run in turn, `--rounds` times, interleaved (so that load from other work on
a shared machine falls on all of them alike), after one warm-up image:

    sequential    for each file: open_image, Stylizer.stylize_source, save_image
    run_batch j1  style_plugin.runtime.batch.run_batch with jobs=1 (one I/O thread)
    run_batch j2  the same with jobs=2 (the CLI's default)

The `fast` model is exported from runs/starry-500 when that trained checkpoint exists,
otherwise from an untrained checkpoint. The sequential way also reports how its time splits
into decode, inference and encode: decode + encode is what overlapping can hide at best.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import results
from inference_speed import (
    DATASET_PHOTOS,
    checkpoint_for,
    export_model,
    machine_line,
)
from PIL import Image, ImageOps

from style_plugin.runtime.batch import run_batch
from style_plugin.runtime.inputs import collect_inputs
from style_plugin.runtime.jobs import stylize_job
from style_plugin.runtime.options import BatchOptions
from style_plugin.runtime.outputs import plan_outputs
from style_plugin.runtime.reading import open_image
from style_plugin.runtime.stylizer import Stylizer
from style_plugin.runtime.writing import save_image

WAYS = {
    "sequential": "one at a time",
    "run_batch j1": "`run_batch`, 1 I/O thread",
    "run_batch j2": "`run_batch`, 2 I/O threads (the CLI's default)",
}


def prepare_photos(folder: Path, count: int, side: int) -> str:
    """`count` JPEGs of about `side` px in `folder`; says where they came from."""
    folder.mkdir(parents=True)
    dataset = sorted(DATASET_PHOTOS.glob("*.jpg")) if DATASET_PHOTOS.is_dir() else []
    for i in range(count):
        target = folder / f"{i:03d}.jpg"
        if dataset:
            with Image.open(dataset[i % len(dataset)]) as image:
                photo = ImageOps.contain(image.convert("RGB"), (side, side))
            photo.save(target, quality=90)
        else:
            from tests.support import make_photo

            png = make_photo(folder / f"{i:03d}.png", side, side * 2 // 3, seed=i)
            with Image.open(png) as image:
                image.save(target, quality=90)
            png.unlink()
    if dataset:
        used = min(count, len(dataset))
        return f"{used} dataset photos{' (repeated)' if count > len(dataset) else ''}"
    return "synthetic photos (dataset not found)"


def sequential(stylizer: Stylizer, plans: list, split: dict[str, float]) -> float:
    """One file at a time on this thread; adds decode/infer/encode seconds into `split`."""
    start = time.perf_counter()
    for plan in plans:
        t0 = time.perf_counter()
        source = open_image(plan.item.path)
        t1 = time.perf_counter()
        image = stylizer.stylize_source(source)
        t2 = time.perf_counter()
        save_image(image, plan.output, source=source, format=plan.format, overwrite=True)
        t3 = time.perf_counter()
        split["decode"] += t1 - t0
        split["infer"] += t2 - t1
        split["encode"] += t3 - t2
    return time.perf_counter() - start


def batched(stylizer: Stylizer, inputs: Path, out: Path, jobs: int, fmt: str | None) -> float:
    options = BatchOptions(output=out, output_is_dir=True, jobs=jobs, format=fmt, overwrite=True)
    plans = plan_outputs(collect_inputs([str(inputs)]), options)
    report = run_batch(stylize_job(stylizer), plans, options)
    if report.failed or len(report.done) != len(plans):
        sys.exit(f"batch failed: {report.summary()}; {report.failed[:3]}")
    return report.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--side", type=int, default=640)
    parser.add_argument("--format", default=None, help="output format (default: the input's)")
    parser.add_argument("--rounds", type=int, default=2)
    results.add_arguments(parser, "batch", "Batches")
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        checkpoint, which = checkpoint_for("fast", folder)
        print(f"model: fast, weights {which}; onnxruntime CPU provider, default threads")
        model = export_model(checkpoint, folder / "fast.onnx")
        inputs = folder / "in"
        origin = prepare_photos(inputs, args.count, args.side)
        sizes = [Image.open(p).size for p in sorted(inputs.iterdir())]
        pixels = statistics.mean(w * h for w, h in sizes)
        print(
            f"input: {args.count} JPEGs from {origin}, longer side {args.side} px "
            f"(mean {pixels / 1e6:.2f} Mpx); output format: {args.format or 'as input (JPEG)'}"
        )
        stylizer = Stylizer(model, device="cpu")
        stylizer.stylize(sorted(inputs.iterdir())[0])  # warm-up: session and arena
        options = BatchOptions(output=folder / "seq", output_is_dir=True, format=args.format)
        plans = plan_outputs(collect_inputs([str(inputs)]), options)
        times: dict[str, list[float]] = {"sequential": [], "run_batch j1": [], "run_batch j2": []}
        split = {"decode": 0.0, "infer": 0.0, "encode": 0.0}
        for k in range(args.rounds):
            times["sequential"].append(sequential(stylizer, plans, split))
            for jobs in (1, 2):
                out = folder / f"j{jobs}-{k}"
                times[f"run_batch j{jobs}"].append(
                    batched(stylizer, inputs, out, jobs, args.format)
                )
            print(f"  round {k + 1}: " + ", ".join(f"{n} {t[-1]:.1f} s" for n, t in times.items()),
                  file=sys.stderr)  # fmt: skip
        base = statistics.median(times["sequential"])
        report = results.Report()
        report.add(
            f"{args.count} JPEGs ({origin}), {args.side} px on the longer side; `fast`, "
            f"weights {which}; medians of {args.rounds} interleaved rounds."
        )
        rows = []
        for name, values in times.items():
            seconds = statistics.median(values)
            rows.append(
                (
                    WAYS[name],
                    f"{seconds:.1f}",
                    f"{args.count / seconds:.2f}",
                    f"{base / seconds:.2f}x",
                )
            )
        report.table(["way", "seconds", "images/s", "vs one at a time"], rows)
        total = sum(split.values())
        parts = ", ".join(f"{k} {v / total:.0%}" for k, v in split.items())
        report.add(
            f"One at a time, the time splits into {parts}: overlapping decoding and encoding "
            f"with the model can gain at most {total / split['infer']:.2f}x here."
        )
    results.publish(args, report)


if __name__ == "__main__":
    main()
