"""The Ray engine against the local one on this machine's CPUs, and what a 4K frame costs.

    python benchmarks/cluster.py [--count 32] [--side 1024] [--cpus 2] [--rounds 2]

Part 1, throughput: the same `--count` JPEG photos (the dataset's, scaled to `--side` px on
their longer side) through `style-plugin stylize` as a user runs it, in a fresh process each:

    local         --jobs 2 --threads CPUS        one inference at a time on all the CPUs
    local 1x      --jobs 2 --threads 1           one inference at a time on one CPU
    ray           --engine ray --threads 1       CPUS one-CPU tasks at a time on a Ray
                                                 cluster of CPUS CPUs on loopback

The ways take turns, `--rounds` times, so that other load falls on all of them alike. Each
run's images/s comes from its own summary line (the batch, not the process start); the whole
command's wall time is printed beside it. Ray's overhead per image is its batch seconds less
the local engine's, divided by the images.

Part 2, one 4K frame (3840x2160) on one CPU thread: decode and encode (JPEG q90 and PNG),
the stylizer at the default scale, and the bytes a frame is when it travels. docs/results.md
turns these into an estimate for a GPU cluster. Both parts go to the `cluster` section there.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a loopback-only cluster
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import results
from batch import prepare_photos
from inference_speed import DATASET_PHOTOS, machine_line
from PIL import Image, ImageOps

from style_plugin.models.generator import generator_flops
from style_plugin.runtime.reading import open_image_bytes
from style_plugin.runtime.scale import working_size
from style_plugin.runtime.settings import DEFAULT_SCALE
from style_plugin.runtime.stylizer import Stylizer
from style_plugin.runtime.writing import encode_image

SUMMARY = re.compile(r"stylized (\d+) images in [\d.]+ s \(([\d.]+) images/s\)")
FRAME_4K = (3840, 2160)


def stylize_command(inputs: Path, out: Path) -> list[str]:
    """`style-plugin stylize INPUTS -o OUT/ -q` with this interpreter."""
    return [sys.executable, "-m", "style_plugin", "stylize", str(inputs), "-o", f"{out}/", "-q"]


def run_once(command: list[str], expected: int) -> tuple[float, float]:
    """(batch seconds from the summary line's rate, whole command's wall seconds)."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    found = SUMMARY.search(done.stdout)
    if done.returncode != 0 or found is None or int(found.group(1)) != expected:
        raise SystemExit(f"{' '.join(command[3:6])}... failed:\n{done.stdout}{done.stderr}")
    return expected / float(found.group(2)), wall


def throughput(model: Path, args: argparse.Namespace, folder: Path, report: results.Report) -> None:
    """Part 1: the three ways, interleaved, on one set of photos."""
    from ray.cluster_utils import Cluster

    inputs = folder / "in"
    source = prepare_photos(inputs, args.count, args.side)
    print(f"{args.count} photos, {args.side} px JPEG ({source}); model {model.name}", flush=True)
    head = {"num_cpus": args.cpus, "node_ip_address": "127.0.0.1", "include_dashboard": False}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    common = ["--model", str(model), "--jobs", "2"]
    ways = {
        "local": [*common, "--threads", str(args.cpus)],
        "local 1x": [*common, "--threads", "1"],
        "ray": [*common, "--threads", "1", "--engine", "ray", "--address", cluster.address],
    }
    times: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
    try:
        for round_ in range(args.rounds + 1):  # round 0 warms the caches and Ray's workers
            for way, extra in ways.items():
                out = folder / f"out-{way.replace(' ', '')}-{round_}"
                measured = run_once(stylize_command(inputs, out) + extra, args.count)
                if round_:
                    times[way].append(measured)
    finally:
        cluster.shutdown()
    best = {way: min(runs) for way, runs in times.items()}
    report.add(
        f"{args.count} photos, {args.side} px JPEG ({source}), model {model.name}; each way "
        f"run as a user runs it, in a fresh process; best of {args.rounds} interleaved rounds "
        "after a warm-up round."
    )
    names = {
        "local": f"local, `--jobs 2 --threads {args.cpus}`",
        "local 1x": "local, `--jobs 2 --threads 1`",
        "ray": f"Ray, {args.cpus}-CPU cluster on loopback, `--threads 1`",
    }
    report.table(
        ["way", "images/s", "batch s", "command s", "vs local"],
        [
            (names[way], f"{args.count / batch_s:.2f}", f"{batch_s:.2f}", f"{wall_s:.2f}",
             f"{best['local'][0] / batch_s:.2f}x")
            for way, (batch_s, wall_s) in best.items()
        ],
    )  # fmt: skip
    overhead = (best["ray"][0] - best["local"][0]) / args.count
    report.add(f"Ray's overhead per image against the local engine: {overhead * 1000:+.0f} ms.")


def best_of(fn, repeats: int = 3) -> float:
    """The fastest of `repeats` calls of `fn`, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def frame_costs(model: Path, report: results.Report) -> None:
    """Part 2: one 4K frame's decode, inference and encode on one thread, and its bytes."""
    photos = sorted(DATASET_PHOTOS.glob("*.jpg")) if DATASET_PHOTOS.is_dir() else []
    if photos:
        with Image.open(photos[0]) as image:
            frame = ImageOps.fit(image.convert("RGB"), FRAME_4K)
    else:
        rng = np.random.default_rng(0)
        small = rng.integers(0, 256, (FRAME_4K[1] // 8, FRAME_4K[0] // 8, 3), dtype=np.uint8)
        frame = Image.fromarray(small).resize(FRAME_4K, Image.Resampling.BICUBIC)
    encoded: dict[str, bytes] = {}
    rows = []
    for fmt, quality in (("JPEG", 90), ("PNG", None)):  # as the batch writes them

        def encode(fmt=fmt, quality=quality) -> bytes:
            return encode_image(frame, fmt, quality=quality)

        rows.append((f"encode {fmt}", best_of(encode)))
        data = encoded[fmt] = encode()
        rows.append((f"decode {fmt}", best_of(lambda data=data: open_image_bytes(data, "4k"))))
    stylizer = Stylizer(model, threads=1, device="cpu")
    rgb = np.asarray(frame)
    stylizer.stylize(rgb)  # warm-up: the session and its first allocation
    rows.append(("stylize (default scale)", best_of(lambda: stylizer.stylize(rgb), 2)))
    work = working_size(rgb.shape[0], rgb.shape[1], DEFAULT_SCALE) or rgb.shape[:2]
    small = np.asarray(frame.resize((work[1], work[0]), Image.Resampling.LANCZOS))
    stylizer.stylize(small, scale=0)
    model_s = best_of(lambda: stylizer.stylize(small, scale=0), 2)
    rows.append((f"  of which the model at {work[1]}x{work[0]}", model_s))
    rows.append(("  the rest (resize, detail)", rows[-2][1] - model_s))
    preset = stylizer.model_for().preset
    gflop = generator_flops(preset, work[0], work[1]) / 1e9
    report.add(f"One 4K frame ({FRAME_4K[0]}x{FRAME_4K[1]}) on one CPU thread:")
    report.table(
        ["step", "ms"],
        [(what.strip(), f"{seconds * 1000:.0f}") for what, seconds in rows]
        + [(f"{fmt} file size", f"{len(data) / 1e6:.1f} MB") for fmt, data in encoded.items()],
    )
    report.add(
        f"The generator (`{preset}`) runs at {work[1]}x{work[0]} at the default stroke scale: "
        f"{gflop:.0f} GFLOP per frame."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=32, help="photos in the batch")
    parser.add_argument("--side", type=int, default=1024, help="longer side of the photos, px")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs for each engine")
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds of each way")
    parser.add_argument("--model", type=Path, help="style model (default: the bundled one)")
    parser.add_argument("--skip-throughput", action="store_true", help="only the 4K costs")
    results.add_arguments(parser, "cluster", "Batches on a Ray cluster, and one 4K frame")
    args = parser.parse_args()
    model = args.model or Path(Stylizer().model_for().path)
    print(machine_line(with_torch=False), flush=True)
    report = results.Report()
    with tempfile.TemporaryDirectory(prefix="cluster-bench-") as tmp:
        if not args.skip_throughput:
            throughput(model, args, Path(tmp), report)
    frame_costs(model, report)
    results.publish(args, report)


if __name__ == "__main__":
    main()
