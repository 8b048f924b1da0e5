"""The runtime on a GPU: onnxruntime's CUDA and TensorRT providers against its CPU provider and
against PyTorch eager on the same GPU, for the whole filter and for the model alone.

    python benchmarks/gpu.py [--repeats 3] [--frames 60] [--case-s 10] [--budget-s 300]
    python benchmarks/gpu.py --cpu-smoke --results none   # tiny, on the CPU: a check only

Pictures: one photo at 1024x1024, 4K (3840x2160) and 24 MP (6000x4000), and a stream of
`--frames` 1080p frames panning across it. The bundled styles' weights
(style_plugin/data/models/default.pt) are exported as an fp32 and an fp16 style model into a
temporary folder. Ways: each model on onnxruntime's CUDA provider and on TensorRT (where this
onnxruntime lists it and a session really opens on it); the fp32 model on the CPU provider;
the `Generator` in PyTorch eager on the same GPU, fp32 and fp16 (autocast), cuDNN's
autotuner on, as onnxruntime searches its convolution algorithms too.

Two measures. The whole filter: `Stylizer.stylize_array` with the default settings (strokes
at scale 1, strength 0.8), 8-bit RGB in and out. The model alone: `ModelSession.run` on a
float32 [1,3,H,W] batch, the upload to the device and the copy back included (eager: the
same arrays in and out). Each case runs once first (the first run at a new size: cuDNN picks
its algorithms, TensorRT builds its engine; that time is reported too), then best of
`--repeats` runs, fewer once the timed runs pass `--case-s` seconds. A stream's figure is
frames per second over all its frames. Ways run one after another (CUDA, the CPU provider,
eager, TensorRT last: its engine builds take longest), the model alone before the filter;
cases that would start after `--budget-s` seconds are left out, and said so.

Where CUDA does not run style models, it says why in one line and exits 0; `--cpu-smoke`
then runs every case it can on the CPU at tiny sizes. The section `gpu` of docs/results.md
is rewritten with the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import results  # noqa: E402  (benchmarks/ is not a package)
from inference_speed import export_model, load_photo, machine_line, photo_paths  # noqa: E402
from results import Report  # noqa: E402

from style_plugin import contract  # noqa: E402
from tests.support import BUNDLED_CHECKPOINT, cuda_problem  # noqa: E402

FILTER, MODEL = "the whole filter", "the model alone"
PROVIDER_NAMES = {"cuda": "CUDA", "tensorrt": "TensorRT", "cpu": "CPU"}


@dataclass(frozen=True)
class Picture:
    """A still, or a stream of `frames` frames panning across the photo."""

    name: str
    width: int
    height: int
    frames: int = 0

    @property
    def label(self) -> str:
        frames = f" x {self.frames} frames" if self.frames else ""
        return f"{self.name}, {self.width}x{self.height}{frames}"


#: The pictures measured: name -> (width, height) on a GPU, and tiny stand-ins for the smoke.
SIZES = {"1024 px": (1024, 1024), "4K": (3840, 2160), "24 MP": (6000, 4000), "1080p": (1920, 1080)}
SMOKE_SIZES = {"1024 px": (64, 64), "4K": (96, 54), "24 MP": (120, 80), "1080p": (64, 36)}
SMOKE_FRAMES = 3


def pictures(smoke: bool, frames: int) -> list[Picture]:
    """The three stills and the 1080p stream."""
    sizes = SMOKE_SIZES if smoke else SIZES
    frames = min(frames, SMOKE_FRAMES) if smoke else frames
    stills = [Picture(name, *sizes[name]) for name in ("1024 px", "4K", "24 MP")]
    return [*stills, Picture("1080p stream", *sizes["1080p"], frames)]


def frames_of(photo: Path, picture: Picture) -> list[np.ndarray]:
    """The picture's 8-bit RGB frames: one still, or a pan of a few pixels per frame."""
    if not picture.frames:
        return [load_photo(photo, picture.width, picture.height)]
    step = max(1, picture.width // 240)
    wide = load_photo(photo, picture.width + step * (picture.frames - 1), picture.height)
    return [wide[:, i * step : i * step + picture.width].copy() for i in range(picture.frames)]


def to_batch(rgb: np.ndarray) -> np.ndarray:
    """8-bit HxWx3 -> float32 [1,3,H,W] in [0,1], as the runtime feeds the model."""
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32) / 255


@dataclass
class Way:
    """One way to run: a name, the model on a float batch, and the whole filter on 8-bit RGB
    (None for PyTorch eager, which has no filter around it)."""

    name: str
    model: Callable[[np.ndarray], np.ndarray]
    filter: Callable[[np.ndarray], np.ndarray] | None = None


def onnxruntime_way(provider: str, precision: str, path: Path) -> Way | str:
    """The style model on `provider`, or why that provider does not run it here."""
    from style_plugin.runtime.model import load_model
    from style_plugin.runtime.providers import available_providers
    from style_plugin.runtime.stylizer import Stylizer

    if provider == "tensorrt" and "TensorrtExecutionProvider" not in available_providers():
        return "this onnxruntime lists no TensorRT provider"
    loaded = load_model(path, device=provider)
    report = loaded.session.provider
    if report.used != provider:
        return report.reason or f"onnxruntime put the session on {report.used}"
    weights = loaded.style_weights(None)[None]

    def model(batch: np.ndarray) -> np.ndarray:
        feeds = {contract.IMAGE: batch, contract.STYLE_WEIGHTS: weights}
        return loaded.session.run([contract.STYLIZED], feeds)[0]

    stylizer = Stylizer(loaded, device=provider)
    return Way(f"{PROVIDER_NAMES[provider]} {precision}", model, stylizer.stylize_array)


def eager_way(device: str, half: bool) -> Way | str:
    """The Generator of default.pt in PyTorch eager on `device`; `half`: fp16 autocast."""
    import contextlib

    import torch

    from style_plugin.models.generator import Generator
    from style_plugin.training.checkpoint import load_checkpoint

    if device == "cuda" and not torch.cuda.is_available():
        return "PyTorch sees no GPU"
    state = load_checkpoint(BUNDLED_CHECKPOINT)
    generator = Generator(len(state["style_names"]), state["preset"])
    generator.load_state_dict(state["generator"])
    generator = generator.float().eval().to(device)
    weights = generator.one_hot(0, 1).to(device)
    torch.backends.cudnn.benchmark = True

    def model(batch: np.ndarray) -> np.ndarray:
        autocast = torch.autocast("cuda", torch.float16) if half else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            stylized = generator(torch.from_numpy(batch).to(device), weights)
        return stylized.float().cpu().numpy()

    return Way(f"PyTorch eager {'fp16' if half else 'fp32'}", model)


def planned_ways(models: dict[str, Path], gpu: bool) -> list[tuple[str, Callable[[], Way | str]]]:
    """(name, maker) of each way, in the order they run: GPU ways first, TensorRT last (its
    engine builds take longest); without a GPU, the CPU provider and eager on the CPU."""
    cpu = [(f"CPU {p}", partial(onnxruntime_way, "cpu", p, m)) for p, m in models.items()]
    if not gpu:
        return [*cpu, ("PyTorch eager fp32", partial(eager_way, "cpu", False))]
    cuda = [(f"CUDA {p}", partial(onnxruntime_way, "cuda", p, m)) for p, m in models.items()]
    trt = [(f"TensorRT {p}", partial(onnxruntime_way, "tensorrt", p, m)) for p, m in models.items()]
    eager = [(f"PyTorch eager {p}", partial(eager_way, "cuda", p == "fp16")) for p in models]
    return [*cuda, cpu[0], *eager, *trt]  # the CPU computes fp16 through fp32: no faster


@dataclass(frozen=True)
class Timing:
    first_s: float
    best_s: float
    runs: int


def best_of(run: Callable[[], object], first: Callable[[], object], repeats: int, case_s: float):
    """(Timing, what `first` returned): `first` once, then best of up to `repeats` runs of
    `run`, fewer once the timed runs add up to `case_s` seconds."""
    start = time.perf_counter()
    output = first()
    first_s = time.perf_counter() - start
    times: list[float] = []
    while len(times) < max(1, repeats) and sum(times) < case_s:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return Timing(first_s, min(times), len(times)), output


def gpu_line() -> str:
    """The GPU and the versions of what drives it."""
    import onnxruntime
    import torch

    names = results.gpu_names()
    if not names and torch.cuda.is_available():
        names = [torch.cuda.get_device_name(0)]
    parts = [
        f"GPU: {', '.join(names) or 'none'}",
        f"onnxruntime {onnxruntime.__version__}",
        f"torch {torch.__version__} (CUDA {torch.version.cuda or 'none'})",
    ]
    try:
        import tensorrt

        parts.append(f"TensorRT {tensorrt.__version__}")
    except ImportError:
        parts.append("TensorRT's Python package not installed")
    return ", ".join(parts)


def cell(timing: Timing | None, picture: Picture) -> str:
    if timing is None:
        return "-"
    if picture.frames:
        return f"{picture.frames / timing.best_s:.1f} frames/s"
    return f"{timing.best_s:.3f} s"


@dataclass
class Measured:
    """What a run measured: timings by (measure, way, picture), the ways that did not run
    and why, the cases left out past the budget, and each way's model output for the first
    picture."""

    timings: dict[tuple[str, str, str], Timing] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per case, at most")
    parser.add_argument("--frames", type=int, default=60, help="frames of the 1080p stream")
    parser.add_argument("--case-s", type=float, default=10.0, help="timed seconds per case")
    parser.add_argument("--budget-s", type=float, default=300.0, help="seconds for all cases")
    parser.add_argument(
        "--cpu-smoke", action="store_true", help="no GPU: every case it can, tiny, on the CPU"
    )
    results.add_arguments(parser, "gpu", "On a GPU")
    args = parser.parse_args()

    problem = cuda_problem()
    if problem and not args.cpu_smoke:
        print(f"no GPU run here: CUDA does not run style models on this machine: {problem}")
        return
    print(machine_line())
    print(gpu_line())
    measured = Measured()
    if problem:
        measured.skipped["CUDA, TensorRT and PyTorch on the GPU"] = problem
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["STYLE_PLUGIN_CACHE_DIR"] = str(folder / "cache")  # engines built afresh
        models = {
            "fp32": export_model(BUNDLED_CHECKPOINT, folder / "default-fp32.onnx"),
            "fp16": export_model(BUNDLED_CHECKPOINT, folder / "default-fp16.onnx", fp16=True),
        }
        photo = photo_paths()[0]
        inputs = {
            picture: frames_of(photo, picture) for picture in pictures(args.cpu_smoke, args.frames)
        }
        ways = make_ways(planned_ways(models, gpu=problem is None), measured)
        run_cases(ways, inputs, args, measured)
    report = Report()
    write_report(report, ways, list(inputs), measured, photo, args)
    results.publish(args, report)


def make_ways(planned: list[tuple[str, Callable[[], Way | str]]], measured: Measured) -> list[Way]:
    """The ways that run here; why each of the others does not goes to `measured`."""
    ways: list[Way] = []
    for name, make in planned:
        way = make()
        if isinstance(way, Way):
            ways.append(way)
        else:
            measured.skipped[name] = way
    return ways


def run_cases(
    ways: list[Way], inputs: dict[Picture, list[np.ndarray]], args, measured: Measured
) -> None:
    """Every (way, picture, measure) that starts within the budget, way after way; the model
    alone first, so that its first run at a size is the one that meets that size first."""
    started = time.perf_counter()
    batches = {picture: [to_batch(frame) for frame in frames] for picture, frames in inputs.items()}
    first = next(iter(inputs))
    for way in ways:
        for picture, frames in inputs.items():
            for measure, run_one, given in (
                (MODEL, way.model, batches[picture]),
                (FILTER, way.filter, frames),
            ):
                if run_one is None:
                    continue
                if time.perf_counter() - started > args.budget_s:
                    measured.left_out.append(f"{way.name}, {measure}, {picture.label}")
                    continue
                timing, output = best_of(
                    lambda run_one=run_one, given=given: [run_one(x) for x in given],
                    lambda run_one=run_one, given=given: run_one(given[0]),
                    args.repeats,
                    args.case_s,
                )
                measured.timings[measure, way.name, picture.label] = timing
                if measure == MODEL and picture == first:
                    measured.outputs[way.name] = output
                print(
                    f"  {way.name} | {measure} | {picture.label}: first {timing.first_s:.3f} s, "
                    f"then {cell(timing, picture)} (best of {timing.runs})",
                    file=sys.stderr,
                    flush=True,
                )


def write_report(
    report: Report, ways: list[Way], shown: list[Picture], measured: Measured, photo: Path, args
) -> None:
    """The tables: each measure by picture and way, the first runs, how far the outputs are
    from the CPU's, and what did not run."""
    report.add(
        f"{gpu_line()}. One photo ({photo.name}) resized to each picture; the bundled styles' "
        "weights exported as fp32 and fp16 style models; the first style. Each case runs once "
        f"first, then best of {args.repeats} runs (fewer past {args.case_s:g} s); a stream's "
        "figure is frames per second over its frames. The whole filter: `Stylizer`, default "
        "settings, 8-bit RGB in and out. The model alone: one float32 batch in, one out, "
        "upload and copy back included."
    )
    timings = measured.timings
    for measure in (FILTER, MODEL):
        names = [w.name for w in ways if measure == MODEL or w.filter is not None]
        rows = [
            (p.label, *(cell(timings.get((measure, n, p.label)), p) for n in names)) for p in shown
        ]
        report.table([measure, *names], rows)
    firsts = []
    for picture in shown:
        found = [timings.get((MODEL, way.name, picture.label)) for way in ways]
        firsts.append((picture.label, *(f"{t.first_s:.2f} s" if t else "-" for t in found)))
    report.table(["first run, the model alone", *(w.name for w in ways)], firsts)
    reference = measured.outputs.get("CPU fp32")
    if reference is not None and len(measured.outputs) > 1:
        apart = {
            name: np.abs(output - reference) * 255
            for name, output in measured.outputs.items()
            if name != "CPU fp32"
        }
        report.add(
            f"The model's output at {shown[0].label} against the CPU provider's fp32, in levels "
            "of 255 (largest, mean): "
            + "; ".join(f"{name} {a.max():.2f}, {a.mean():.3f}" for name, a in apart.items())
            + "."
        )
    for name, reason in measured.skipped.items():
        report.add(f"{name}: not measured: {reason}.")
    if measured.left_out:
        report.add(f"Left out past {args.budget_s:g} s: " + "; ".join(measured.left_out) + ".")


if __name__ == "__main__":
    main()
