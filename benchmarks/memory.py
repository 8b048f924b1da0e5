"""Peak memory of stylizing a huge image from file to file: an 8192x8192 RGBA PNG on CPU.

Each measurement runs in a fresh Python process that imports only the runtime (no torch), so
`resource.getrusage(RUSAGE_SELF).ru_maxrss` is the peak resident set (also VmHWM, the same peak read from /proc) of exactly

    Stylizer(model, device="cpu", tile_size=T).stylize(path, scale=0)  ->  save_image(result, out.png)

(model loading included: a host pays it too; scale 0, the full-resolution tiled path: the
default stroke scale paints a 1024 px copy and needs far less). The test image (smooth gradients + noise + an
alpha gradient) is generated and written by another process first, so generating it does not
count. Then a second process per setting repeats the work phase by phase (decode, thumbnail,
tiles, restore, save) while a thread samples its resident set every 2 ms and tracemalloc
counts numpy's allocations, to show where the memory goes.

onnxruntime's CPU memory arena keeps what one run allocated for the next. The runtime keeps
it for whole images and runs tiled images on a session without it; 'arena kept' rows patch
the runtime, in the child process only, to keep the arena for tiles too, which shows what
that choice saves. A last child times both ways on a 2048 px photo in default tiles.

    python benchmarks/memory.py [--side 8192] [--tile-sizes 1024 512] [--no-breakdown]

The model is `fast`, exported from runs/starry-500 when that trained checkpoint exists (it is
not in git), otherwise from an untrained checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent))

import results  # noqa: E402  (benchmarks/ is not a package; standard library only)

ARENA = {"runtime": "dropped (the runtime)", "kept": "kept"}
PHASES = ("load", "decode", "thumbnail", "tiles", "restore", "save")


def max_rss_bytes() -> int:
    """Peak resident set of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def vm_hwm_bytes() -> int | None:
    """Peak resident set of this process's address space (VmHWM), which, unlike ru_maxrss,
    does not carry over the parent's size through fork and exec; None where /proc lacks it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# --- child: export the model (the only process that imports torch) -------------------------


def prepare(folder: Path) -> None:
    """Print the machine and model lines and export the `fast` model to folder/fast.onnx."""
    from inference_speed import checkpoint_for, export_model, machine_line

    print(machine_line(with_torch=False))
    checkpoint, which = checkpoint_for("fast", folder)
    print(f"model: fast, weights {which}; onnxruntime CPU provider, default threads")
    export_model(checkpoint, folder / "fast.onnx")


# --- child: generate the test image ---------------------------------------------------------


def make_image(path: Path, side: int) -> None:
    """An RGBA PNG: colour gradients and soft waves, mild noise, alpha ramping 0..255."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    image = np.empty((side, side, 4), dtype=np.uint8)
    x = np.linspace(0.0, 1.0, side, dtype=np.float32)[None, :]
    step = 512
    for top in range(0, side, step):
        rows = min(step, side - top)
        y = np.linspace(top / side, (top + rows) / side, rows, endpoint=False, dtype=np.float32)
        y = y[:, None]
        r = 0.5 + 0.4 * np.sin(6.0 * x + 3.0 * y)
        g = 0.5 + 0.4 * np.cos(5.0 * y - 2.0 * x)
        b = 0.3 + 0.5 * x * y + 0.1 * np.sin(40.0 * x) * np.sin(40.0 * y)
        rgb = np.stack(np.broadcast_arrays(r, g, b), axis=-1)
        rgb = rgb + rng.normal(0.0, 0.03, rgb.shape).astype(np.float32)
        image[top : top + step, :, :3] = np.clip(rgb * 255 + 0.5, 0, 255).astype(np.uint8)
        alpha = np.broadcast_to(0.25 * x + 0.75 * y, (rows, side))
        image[top : top + step, :, 3] = np.clip(alpha * 255 + 0.5, 0, 255).astype(np.uint8)
    Image.fromarray(image, "RGBA").save(path, compress_level=1)


# --- child: measure -------------------------------------------------------------------------


def set_arena(mode: str) -> None:
    """'runtime': as the runtime is (no arena for tiled images); 'kept': patched, in this
    child process only, so that tiles run on the cached session with its arena."""
    if mode == "kept":
        from style_plugin.runtime import stylizer

        original = stylizer._infer
        stylizer._infer = lambda model, weights, lean=False: original(model, weights)


def measure(model: Path, image: Path, out: Path, tile_size: int, arena: str) -> dict:
    """The plain API path, timed; peak RSS of the whole process."""
    set_arena(arena)
    from style_plugin.runtime.stylizer import Stylizer
    from style_plugin.runtime.writing import save_image

    start = time.perf_counter()
    stylizer = Stylizer(model, device="cpu", tile_size=tile_size)
    loaded = time.perf_counter()
    after_load = max_rss_bytes()
    result = stylizer.stylize(image, scale=0)  # full resolution: the tiled path
    stylized = time.perf_counter()
    save_image(result, out, overwrite=True)
    saved = time.perf_counter()
    return {
        "peak": max_rss_bytes(),
        "hwm": vm_hwm_bytes(),
        "after_load": after_load,
        "load_s": loaded - start,
        "stylize_s": stylized - loaded,
        "save_s": saved - stylized,
        "total_s": saved - start,
        "torch_imported": "torch" in sys.modules,
    }


class Sampler:
    """Samples this process's resident set every `interval` s; peak per named phase."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.phase = "load"
        self.peaks: dict[str, int] = {}
        self.stop = threading.Event()
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def rss(self) -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * self.page

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            time.sleep(self.interval)

    def sample(self) -> None:
        now = self.rss()
        if now > self.peaks.get(self.phase, 0):
            self.peaks[self.phase] = now

    def enter(self, phase: str) -> None:
        self.sample()
        self.phase = phase
        self.sample()


def breakdown(model: Path, image: Path, out: Path, tile_size: int, arena: str) -> dict:
    """The same work split into phases: sampled RSS peak and numpy's traced peak per phase."""
    import tracemalloc

    sampler = Sampler()
    set_arena(arena)
    tracemalloc.start()
    from style_plugin.runtime.pixels import restore
    from style_plugin.runtime.reading import open_image
    from style_plugin.runtime.stylizer import Stylizer
    from style_plugin.runtime.writing import save_image

    numpy_peaks: dict[str, int] = {}
    rss_at_start: dict[str, int] = {}

    def enter(phase: str) -> None:
        numpy_peaks[sampler.phase] = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        sampler.enter(phase)
        rss_at_start[phase] = sampler.rss()

    stylizer = Stylizer(model, device="cpu", tile_size=tile_size)
    enter("decode")
    source = open_image(image)
    held = {"rgb": source.rgb.nbytes, "alpha": 0 if source.alpha is None else source.alpha.nbytes}
    enter("thumbnail")

    def progress(done: int, total: int) -> None:
        if done == 1 and total > 1:
            enter("tiles")

    rgb = stylizer.stylize_array(source.rgb, None, scale=0, progress=progress)
    held["output rgb"] = rgb.nbytes
    enter("restore")
    result = restore(source, rgb)
    enter("save")
    save_image(result, out, overwrite=True)
    enter("end")
    sampler.stop.set()
    return {
        "rss_peaks": sampler.peaks,
        "rss_at_start": rss_at_start,
        "numpy_peaks": numpy_peaks,
        "held": held,
        "peak": max_rss_bytes(),
    }


def arena_time(model: Path, side: int, rounds: int) -> dict:
    """Seconds to stylize a side x side photo in default tiles with the arena kept for tiles
    and without it (the runtime's way), runs interleaved."""
    import statistics

    import numpy as np

    from style_plugin.runtime.model import load_model
    from style_plugin.runtime.stylizer import _infer
    from style_plugin.runtime.tiling import TileSettings, stylize_tiled

    loaded = load_model(model, device="cpu")
    weights = loaded.style_weights(None)
    infers = {name: _infer(loaded, weights, lean=name == "runtime") for name in ("kept", "runtime")}
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    rgb = np.stack([np.sin(6 * x + 3 * y), np.cos(5 * y - 2 * x), x * y], axis=-1) * 0.4 + 0.5
    rgb = np.clip(rgb + rng.normal(0, 0.03, rgb.shape), 0, 1)
    rgb = (rgb * 255 + 0.5).astype(np.uint8)
    times: dict[str, list[float]] = {name: [] for name in infers}
    for infer in infers.values():
        stylize_tiled(rgb, infer, TileSettings())  # warm-up
    for _ in range(rounds):
        for name, infer in infers.items():
            start = time.perf_counter()
            stylize_tiled(rgb, infer, TileSettings())
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def child_main(args: argparse.Namespace) -> None:
    model, image, out = (Path(p) for p in args.child)
    work = breakdown if args.phases else measure
    print(json.dumps(work(model, image, out, args.tile_size, args.arena)))


# --- parent ---------------------------------------------------------------------------------


def run_child(*arguments: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(HERE), "--child", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"child process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def gb(value: float) -> str:
    return f"{value / 1e9:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=8192, help="image width and height")
    parser.add_argument("--tile-sizes", type=int, nargs="+", default=[1024, 512])
    parser.add_argument("--no-breakdown", action="store_true", help="only the plain figures")
    parser.add_argument(
        "--child", nargs=3, metavar=("MODEL", "IMAGE", "OUT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--make-image", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--arena-time", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--arena-time-side", type=int, default=2048, help="photo side for the arena on/off timing"
    )
    parser.add_argument("--arena-time-rounds", type=int, default=3)
    parser.add_argument("--tile-size", type=int, default=1024, help=argparse.SUPPRESS)
    parser.add_argument("--arena", default="runtime", help=argparse.SUPPRESS)
    parser.add_argument("--phases", action="store_true", help=argparse.SUPPRESS)
    results.add_arguments(parser, "memory", "Memory")
    args = parser.parse_args()
    if args.make_image:
        make_image(args.make_image, args.side)
        return
    if args.child:
        child_main(args)
        return
    if args.prepare:
        prepare(args.prepare)
        return
    if args.arena_time:
        times = arena_time(args.arena_time, args.arena_time_side, args.arena_time_rounds)
        print(json.dumps(times))
        return

    # This process stays small (standard library only): on Linux a child's ru_maxrss starts
    # from its parent's resident set at fork/exec, so torch is imported in a child of its own.
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        subprocess.run([sys.executable, str(HERE), "--prepare", str(folder)], check=True)
        model = folder / "fast.onnx"
        image = folder / "big.png"
        maker = [sys.executable, str(HERE), "--make-image", str(image), "--side", str(args.side)]
        subprocess.run(maker, check=True)
        report = results.Report()
        report.add(
            f"Peak resident memory of a fresh process that loads the model, stylizes a "
            f"{args.side}x{args.side} RGBA PNG ({image.stat().st_size / 1e6:.0f} MB on disk, "
            f"{args.side**2 * 4 / 1e6:.0f} MB of pixels) at full resolution (`scale=0`) and "
            "saves the result. 'arena kept' keeps onnxruntime's CPU memory arena for tiles, "
            "which the runtime drops."
        )
        runs = [(tile, "runtime") for tile in args.tile_sizes]
        runs += [(args.tile_sizes[0], "kept")]
        rows = []
        for tile, arena in runs:
            extra = ["--arena", arena]
            out = str(folder / "out.png")
            got = run_child(str(model), str(image), out, "--tile-size", str(tile), *extra)
            if got["torch_imported"]:
                print(f"warning: the tile {tile}, arena {arena} run imported torch")
            rows.append(
                (tile, ARENA[arena], gb(got["peak"]), gb(got["after_load"]),
                 f"{got['stylize_s']:.1f}", f"{got['save_s']:.1f}")
            )  # fmt: skip
        header = ["tile", "arena", "peak GB", "after loading GB", "stylize s", "save s"]
        report.table(header, rows, left=2)
        if args.no_breakdown:
            results.publish(args, report)
            return
        for tile, arena in [(args.tile_sizes[0], "runtime"), (args.tile_sizes[0], "kept")]:
            extra = ["--arena", arena]
            out = str(folder / "out.png")
            got = run_child(
                str(model), str(image), out, "--tile-size", str(tile), "--phases", *extra
            )
            report.add(
                f"Where the memory goes, tile {tile}, arena {ARENA[arena]} (resident set sampled "
                f"every 2 ms; numpy: tracemalloc's peak of numpy and Python allocations; peak "
                f"{gb(got['peak'])} GB):"
            )
            report.table(
                ["phase", "resident at start GB", "peak resident GB", "numpy peak GB"],
                [
                    (phase, gb(got["rss_at_start"][phase]) if got["rss_at_start"].get(phase)
                     else "-", gb(got["rss_peaks"][phase]), gb(got["numpy_peaks"].get(phase, 0)))
                    for phase in PHASES
                    if phase in got["rss_peaks"]
                ],
            )  # fmt: skip
            held = ", ".join(f"{k} {v / 1e6:.0f} MB" for k, v in got["held"].items())
            report.add(f"Arrays held across phases: {held}.")
        side, rounds = args.arena_time_side, args.arena_time_rounds
        command = [sys.executable, str(HERE), "--arena-time", str(model)]
        command += ["--arena-time-side", str(side), "--arena-time-rounds", str(rounds)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        times = json.loads(done.stdout.strip().splitlines()[-1])
        report.add(
            f"Time cost of dropping the arena: {side}x{side} in default tiles, median of {rounds} "
            f"interleaved runs: arena kept {times['kept']:.2f} s, dropped (the runtime) "
            f"{times['runtime']:.2f} s ({times['runtime'] / times['kept']:.2f}x)."
        )
    results.publish(args, report)


if __name__ == "__main__":
    main()
