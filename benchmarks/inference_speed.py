"""Inference latency of the generator presets: onnxruntime (the runtime) vs PyTorch eager.

One image per run, square, at each size: through `style_plugin.runtime.Stylizer` (onnxruntime,
CPU provider, untiled: the tile size is set to the image size) and through the PyTorch
`Generator` in eager mode (`torch.no_grad()`, float32) with the same weights. Both start from
the same HxWx3 uint8 array and end with a uint8 array, so both pay the same conversions.
Also float16 vs float32 style models through onnxruntime at 1024 px for `fast`.

    python benchmarks/inference_speed.py [--sizes 512 1024 2048] [--repeats 5] [--threads 0]

The `fast` weights are the trained runs/starry-500 checkpoint when it exists (it is not in
git), otherwise an untrained checkpoint; `johnson` is always untrained. Speed does not depend
on the weights' values. Every case runs once to warm up; the figure is the median of the
timed runs (`--slow-repeats` of them when a warm-up took over `--slow-s` seconds). The cases of
one size run interleaved (a, b, c, d, a, b, ...), so that load from other work on a shared
machine falls on all of them alike: ratios within one size are the figures to trust.

The helpers here (machine line, checkpoints, exports) are shared by the other benchmarks.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import results  # noqa: E402  (benchmarks/ is not a package)
from results import Report, cpu_model  # noqa: E402

#: The trained 1-style `fast` checkpoint a training run may have left (gitignored).
TRAINED_FAST = ROOT / "runs" / "starry-500" / "checkpoint.pt"
BUNDLED_PHOTOS = ROOT / "style_plugin" / "data" / "photos"
DATASET_PHOTOS = ROOT.parent / "shared" / "datasets" / "content"


# --- helpers shared with the other benchmarks -------------------------------------------------


def machine_line(with_torch: bool = True) -> str:
    """One line: CPU, cores, SIMD, memory, and the versions that matter for speed."""
    import onnxruntime
    import PIL

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = ", AVX-512" if " avx512f" in text else (", AVX2" if " avx2" in text else "")
        flags += " (bf16)" if " avx512_bf16" in text else ""
        memory = next(
            int(line.split()[1]) / 2**20
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        flags += f", {memory:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    parts = [
        f"machine: {cpu_model()}, {cores} cores{flags}",
        f"Python {platform.python_version()}",
        f"onnxruntime {onnxruntime.__version__}",
    ]
    if with_torch:
        import torch

        parts.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    parts += [f"numpy {np.__version__}", f"Pillow {PIL.__version__}"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return ", ".join(parts) + f"; load average {load:.2f} at start"


def checkpoint_for(preset: str, folder: Path, *, prefer_trained: bool = True) -> tuple[Path, str]:
    """A checkpoint of `preset` and a phrase saying which weights it holds."""
    from tests.support import make_checkpoint

    if preset == "fast" and prefer_trained and TRAINED_FAST.is_file():
        return TRAINED_FAST, "trained (runs/starry-500, 1 style, 500 steps)"
    untrained = make_checkpoint(folder / f"{preset}.pt", preset=preset)
    return untrained, "untrained (perturbed styles)"


def export_model(checkpoint: Path, output: Path, *, fp16: bool = False) -> Path:
    """Export with verification; prints one line with the size and the verified difference."""
    from style_plugin.exporters.onnx import export_onnx

    report = export_onnx(checkpoint, output, fp16=fp16, verify=True, overwrite=True)
    print(
        f"exported {output.name}: {report.preset} {report.precision}, "
        f"{report.size_bytes / 1e6:.2f} MB, max |onnxruntime - PyTorch| = "
        f"{report.max_abs_diff:.2g} at {len(report.verified_sizes)} sizes"
    )
    return output


def photo_paths() -> list[Path]:
    """Real photos: the dataset's when present (dev/CI machines), else the bundled ones."""
    found = sorted(DATASET_PHOTOS.glob("*.jpg")) if DATASET_PHOTOS.is_dir() else []
    return found or sorted(BUNDLED_PHOTOS.glob("*.jpg"))


def load_photo(path: Path, width: int, height: int | None = None) -> np.ndarray:
    """A photo as HxWx3 uint8, centre-cropped to the aspect ratio and resized (up if needed)."""
    from PIL import Image, ImageOps

    height = height or width
    with Image.open(path) as image:
        fitted = ImageOps.fit(image.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
    return np.asarray(fitted).copy()


def timed_together(
    runs: dict[str, Callable[[], object]], repeats: int, slow_repeats: int, slow_s: float
) -> dict[str, float]:
    """Median seconds of each function, their timed runs interleaved (a, b, a, b, ...) so that
    all of them meet the same machine load; one warm-up run of each first. If any warm-up
    took over `slow_s` seconds, `slow_repeats` rounds are timed instead of `repeats`."""
    warm = 0.0
    for fn in runs.values():
        start = time.perf_counter()
        fn()
        warm = max(warm, time.perf_counter() - start)
    rounds = max(1, slow_repeats if warm > slow_s else repeats)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def timed(fn: Callable[[], object], repeats: int, slow_repeats: int, slow_s: float) -> float:
    """Median seconds of `fn` over timed runs after one warm-up run."""
    return timed_together({"fn": fn}, repeats, slow_repeats, slow_s)["fn"]


# --- this benchmark -------------------------------------------------------------------------


def eager_runner(checkpoint: Path, rgb: np.ndarray) -> Callable[[], np.ndarray]:
    """uint8 HxWx3 -> Generator (eager, fp32, no_grad) -> uint8 HxWx3."""
    import torch

    from style_plugin.models.generator import Generator
    from style_plugin.training.checkpoint import load_checkpoint

    state = load_checkpoint(checkpoint)
    generator = Generator(len(state["style_names"]), state["preset"])
    generator.load_state_dict(state["generator"])
    generator.float().eval()
    weights = generator.one_hot(0, 1)

    def run() -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div_(255)
            y = generator(x, weights)
            return (y[0].permute(1, 2, 0) * 255).round_().to(torch.uint8).numpy()

    return run


def ort_runner(model: Path, rgb: np.ndarray, threads: int) -> Callable[[], np.ndarray]:
    """uint8 HxWx3 -> Stylizer (onnxruntime CPU, one untiled run) -> uint8 HxWx3."""
    from style_plugin.runtime.stylizer import Stylizer

    side = max(rgb.shape[:2])
    stylizer = Stylizer(model, device="cpu", threads=threads, tile_size=max(32, side))
    return lambda: stylizer.stylize_array(rgb, None, scale=0)  # the model at this size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--presets", nargs="+", default=["fast", "johnson"])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per case")
    parser.add_argument("--slow-repeats", type=int, default=2, help="timed runs of slow cases")
    parser.add_argument("--slow-s", type=float, default=5.0, help="warm-up time making it slow")
    parser.add_argument(
        "--threads", type=int, default=0, help="threads for both (0: each library's default)"
    )
    parser.add_argument("--no-fp16", action="store_true", help="skip the fp16 vs fp32 table")
    parser.add_argument(
        "--no-profile", action="store_true", help="skip onnxruntime's per-operator profile"
    )
    results.add_arguments(parser, "inference-speed", "Inference speed")
    args = parser.parse_args()

    import torch

    from style_plugin.models.generator import generator_flops

    if args.threads:
        torch.set_num_threads(args.threads)
    print(machine_line())
    print(
        f"single image, square; per size all cases warm up once, then {args.repeats} rounds "
        f"({args.slow_repeats} if a warm-up took over {args.slow_s:g} s) run them interleaved; "
        "medians; "
        f"onnxruntime CPU provider, {args.threads or 'default'} intra-op threads; "
        f"PyTorch eager fp32 under no_grad, {torch.get_num_threads()} threads"
    )
    photo = photo_paths()[0]
    print(f"input: {photo.name} resized to each size")
    report = Report()
    timings: dict[tuple[str, int], tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        models: dict[str, Path] = {}
        checkpoints: dict[str, Path] = {}
        which: dict[str, str] = {}
        for preset in args.presets:
            checkpoints[preset], which[preset] = checkpoint_for(preset, folder)
            print(f"{preset} weights: {which[preset]}")
            models[preset] = export_model(checkpoints[preset], folder / f"{preset}.onnx")
        for size in args.sizes:
            rgb = load_photo(photo, size)
            runs = {}
            for preset in args.presets:
                runs[preset, "ort"] = ort_runner(models[preset], rgb, args.threads)
                runs[preset, "eager"] = eager_runner(checkpoints[preset], rgb)
            medians = timed_together(runs, args.repeats, args.slow_repeats, args.slow_s)
            for preset in args.presets:
                timings[preset, size] = (medians[preset, "ort"], medians[preset, "eager"])
                print(
                    f"  {size} px {preset}: onnxruntime {medians[preset, 'ort']:.3f} s, "
                    f"eager {medians[preset, 'eager']:.3f} s",
                    file=sys.stderr,
                )
        report.add(
            f"One photo ({photo.name}) at each size; medians of {args.repeats} interleaved rounds; "
            f"onnxruntime CPU provider, {args.threads or 'default'} threads; PyTorch eager fp32 "
            f"under no_grad, {torch.get_num_threads()} threads. Weights: "
            + "; ".join(f"{preset} {which[preset]}" for preset in args.presets)
            + "."
        )
        rows = []
        for (preset, size), (ort_s, eager_s) in timings.items():
            gflop = generator_flops(preset, size, size) / 1e9
            rows.append(
                (preset, size, f"{gflop:.1f}", f"{ort_s:.3f}", f"{eager_s:.3f}",
                 f"{eager_s / ort_s:.1f}x")
            )  # fmt: skip
        header = ["preset", "size", "GFLOP", "onnxruntime s", "eager s", "eager / onnxruntime"]
        report.table(header, rows)
        for size in args.sizes:
            if ("fast", size) in timings and ("johnson", size) in timings:
                fast_ort, johnson_eager = timings["fast", size][0], timings["johnson", size][1]
                report.add(
                    f"At {size} px, `fast` in onnxruntime ({fast_ort:.3f} s) is "
                    f"{johnson_eager / fast_ort:.1f}x faster than `johnson` in PyTorch eager "
                    f"({johnson_eager:.3f} s)."
                )
        if "fast" in models and not args.no_fp16:
            fp16_table(models["fast"], checkpoints["fast"], folder, photo, args, report)
        if not args.no_profile:
            for preset, model in models.items():
                profile(model, preset, folder, photo, args.threads, report)
    results.publish(args, report)


def fp16_table(
    fp32: Path, checkpoint: Path, folder: Path, photo: Path, args, report: Report
) -> None:
    """float16 vs float32 `fast` style models through onnxruntime on CPU at 1024 px."""
    fp16 = export_model(checkpoint, folder / "fast-fp16.onnx", fp16=True)
    rgb = load_photo(photo, 1024)
    runs = {
        "fp32": ort_runner(fp32, rgb, args.threads),
        "fp16": ort_runner(fp16, rgb, args.threads),
    }
    outputs = {name: run().astype(np.int16) for name, run in runs.items()}
    medians = timed_together(runs, args.repeats, args.repeats, args.slow_s)
    rows = [
        (name, model.stat().st_size, medians[name])
        for name, model in (("fp32", fp32), ("fp16", fp16))
    ]
    diff = np.abs(outputs["fp16"] - outputs["fp32"])
    base = rows[0][2]
    report.table(
        ["`fast` style model at 1024 px", "file MB", "onnxruntime s", "vs fp32"],
        [
            (name, f"{size / 1e6:.2f}", f"{seconds:.3f}", f"{seconds / base:.2f}x")
            for name, size, seconds in rows
        ],
    )
    report.add(
        f"fp16 output against fp32 (0-255): mean difference {diff.mean():.3f}, "
        f"largest {diff.max()}."
    )


def profile(
    model: Path, preset: str, folder: Path, photo: Path, threads: int, report: Report
) -> None:
    """Where onnxruntime's time goes at 1024 px: kernel time per operator type (last of 3 runs,
    onnxruntime's own profiler, the session options the runtime uses plus profiling)."""
    import json
    from collections import Counter

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_profiling = True
    options.profile_file_prefix = str(folder / f"profile-{preset}")
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    image = load_photo(photo, 1024).transpose(2, 0, 1)[None].astype(np.float32) / 255
    styles = session.get_inputs()[1].shape[1]
    feeds = {"image": image, "style_weights": np.full((1, styles), 1 / styles, np.float32)}
    for _ in range(3):
        session.run(["stylized"], feeds)
    events = json.loads(Path(session.end_profiling()).read_text())
    last = [e for e in events if e.get("name") == "model_run"][-1]
    per_op: Counter[str] = Counter()
    for event in events:
        kernel = event.get("cat") == "Node" and event["name"].endswith("_kernel_time")
        if kernel and event["ts"] >= last["ts"]:
            per_op[event["args"]["op_name"]] += event["dur"]
    total = sum(per_op.values())
    shown = per_op.most_common(8)
    parts = [f"{op} {us / total:.0%}" for op, us in shown]
    rest = total - sum(us for _, us in shown)
    report.add(
        f"Where onnxruntime's time goes, `{preset}` at 1024 px (one run, "
        f"{last['dur'] / 1e6:.3f} s): " + ", ".join(parts) + f", other {rest / total:.0%}."
    )


if __name__ == "__main__":
    main()
