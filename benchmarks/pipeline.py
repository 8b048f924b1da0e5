"""The filter around the model, this checkout against an earlier revision, in one run: a 4K and
a 24-megapixel photo at the default stroke scale, wall time, peak memory, and the pictures.

    python benchmarks/pipeline.py [--baseline REV] [--sizes 3840x2160 6000x4000]
                                  [--rounds 5] [--threads 0 1] [--scale 1] [--memory-runs 3]

The baseline (default: the parent of the commit that added this file; HEAD while it is not
committed) is checked out into a temporary `git worktree`. Each side runs in a Python process
of its own with its tree first on the path (this checkout's files as they are on disk), so
both are timed on the same machine in the same minutes.

Time: each side's process loads the model and stylizes every photo once to warm up; then the
sides take turns, `--rounds` times, and the best round counts (other load only adds to a
round). A round times `Stylizer.stylize` on the photo's array (decoding left out, the result
a PIL image) and the model alone on the small copy (`scale=0` at the working size); the
difference is the work around the model: the shrink, the enlargement with the photo's
detail, strength and the conversions.

Memory: a fresh process per side and photo loads the model and the photo, stylizes it once,
and reports its peak resident set (VmHWM, which a child does not inherit from its parent);
the sides take turns, `--memory-runs` times, and the median counts.

Pictures: each side's result for every photo, and on the first photo for every option
(strength 1, colours kept, 16-bit and float values, full resolution in tiles), must agree
within one level of 255; the run fails if one does not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))

import results  # noqa: E402  (benchmarks/ is not a package)

SIDES = ("today", "new")
BUNDLED_MODEL = ROOT / "style_plugin" / "data" / "models" / "default.onnx"
SAMPLE_PHOTO = ROOT / "style_plugin" / "data" / "photos" / "coffee.jpg"


# --- a side: one process serving timing and picture requests ----------------------------------


def vm_hwm_bytes() -> int:
    """Peak resident set of this process (VmHWM from /proc; ru_maxrss where that is missing).
    Not memory.py's: importing it would put this checkout on the path of the side that must
    run another revision."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Side:
    """The code of one tree: stylizers by (threads, tile size), timed calls, saved pictures."""

    def __init__(self, model: str) -> None:
        import style_plugin
        from style_plugin.runtime import statistics, stylizer

        self.model = model
        self.tree = str(Path(style_plugin.__file__).parents[1])
        # This compares the work around the model, so both sides give the model the same
        # input and tiles the same statistics: later revisions dither the input
        # (runtime/dither.py) and make more layers exact for far-reduced thumbnails, which
        # change the picture by design.
        stylizer.DITHER_LEVELS = 0.0
        statistics.FAR_DOWNSCALE = float("inf")
        self.stylizers: dict[tuple[int, int], object] = {}

    def stylizer(self, threads: int, tile_size: int = 1024):
        from style_plugin.runtime.stylizer import Stylizer

        key = (threads, tile_size)
        if key not in self.stylizers:
            self.stylizers[key] = Stylizer(
                self.model, device="cpu", threads=threads, tile_size=tile_size
            )
        return self.stylizers[key]

    def time(self, photo: str, threads: int, scale: float) -> dict:
        """Seconds of the whole call, and of the model alone on the small copy."""
        from PIL import Image

        from style_plugin.runtime.scale import working_size

        rgb = np.load(photo)
        stylizer = self.stylizer(threads)
        start = time.perf_counter()
        stylizer.stylize(rgb, scale=scale)
        whole = time.perf_counter() - start
        height, width = working_size(rgb.shape[0], rgb.shape[1], scale) or rgb.shape[:2]
        small = np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS))
        start = time.perf_counter()
        stylizer.stylize(small, scale=0)
        return {"whole": whole, "model": time.perf_counter() - start}

    def picture(self, photo: str, out: str, options: dict, tile_size: int) -> dict:
        """Save `stylize_array`'s result for the photo (of any dtype) with `options`."""
        rgb = np.load(photo)
        np.save(out, self.stylizer(0, tile_size).stylize_array(rgb, **options))
        return {}

    def peak(self, photo: str, threads: int, scale: float) -> dict:
        """Stylize once in this fresh process; its peak resident set."""
        self.stylizer(threads).stylize(np.load(photo), scale=scale)
        return {"peak": vm_hwm_bytes()}


def serve(model: str) -> None:
    """Answer one JSON request a line on stdin (`{"do": "time", ...}`) with one JSON line."""
    side = Side(model)
    print(json.dumps({"tree": side.tree}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        answer = getattr(side, request.pop("do"))(**request)
        print(json.dumps(answer), flush=True)


class SideProcess:
    """A side's serving process, started with its tree first on the path."""

    def __init__(self, tree: Path, model: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [sys.executable, str(HERE), "--serve", str(model)]
        self.process = subprocess.Popen(
            command, env=env, cwd=tree, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        imported = Path(self._answer()["tree"]).resolve()
        if imported != tree.resolve():
            self.close()
            sys.exit(f"a side meant to run {tree} imported style_plugin from {imported}")

    def _answer(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"a side's process ended (exit status {self.process.wait()})")
        return json.loads(line)

    def ask(self, **request: object) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()


# --- the parent -----------------------------------------------------------------------------


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def default_baseline() -> str:
    """The parent of the commit that added this file, or HEAD while it is not committed."""
    added = git("log", "--diff-filter=A", "--format=%H", "-1", "--", "benchmarks/pipeline.py")
    return f"{added}^" if added else "HEAD"


def make_photo(path: Path, width: int, height: int) -> None:
    """The bundled sample photo cropped and scaled to width x height, with a little grain:
    detail at every pixel, as a camera's."""
    from PIL import Image, ImageOps

    with Image.open(SAMPLE_PHOTO) as image:
        photo = ImageOps.fit(image.convert("RGB"), (width, height), Image.Resampling.BICUBIC)
    grain = np.random.default_rng(0).normal(0, 2.0, (height, width, 3))
    np.save(path, np.clip(np.asarray(photo) + grain, 0, 255).round().astype(np.uint8))


def levels_apart(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(largest difference in levels of 255, share of values that differ)."""
    top = {np.uint8: 255, np.uint16: 65535}.get(a.dtype.type, 1.0)
    difference = np.abs(a.astype(np.float64) - b.astype(np.float64)) * 255 / top
    return float(difference.max()), float(np.mean(difference > 0))


def median(values: list[int]) -> float:
    return float(np.median(values))


def megabytes(values: list[int]) -> str:
    """'668 (650, 668, 675)': the median, then every value, in MB."""
    every = ", ".join(f"{value / 1e6:.0f}" for value in values)
    return f"{median(values) / 1e6:.0f} ({every})" if len(values) > 1 else every


def parse_size(text: str) -> tuple[int, int]:
    width, height = (int(part) for part in text.lower().split("x"))
    return width, height


def label(size: tuple[int, int]) -> str:
    megapixels = size[0] * size[1] / 1e6
    return (
        f"{size[0]}x{size[1]} ({megapixels:.0f} MP)" if megapixels >= 1 else f"{size[0]}x{size[1]}"
    )


def timings(processes: dict, photos: dict, args: argparse.Namespace) -> dict:
    """Best whole and model-alone seconds per (size, threads, side), rounds interleaved."""
    best: dict[tuple, dict[str, float]] = {}
    for round_ in range(args.rounds + 1):  # round 0 warms up
        for size, photo in photos.items():
            for threads in args.threads:
                order = SIDES if round_ % 2 else SIDES[::-1]
                for side in order:
                    got = processes[side].ask(
                        do="time", photo=str(photo), threads=threads, scale=args.scale
                    )
                    if round_ == 0:
                        continue
                    kept = best.setdefault((size, threads, side), got)
                    for key, value in got.items():
                        kept[key] = min(kept[key], value)
        print(f"round {round_} of {args.rounds} done", flush=True)
    return best


def option_checks(first: Path, folder: Path, scale: float) -> list[tuple[str, Path, dict, int]]:
    """(what, photo, options, tile size) for every option, on the first photo."""
    rgb = np.load(first)
    deep, floats = folder / "deep.npy", folder / "floats.npy"
    np.save(deep, rgb.astype(np.uint16) * 257)
    np.save(floats, rgb.astype(np.float32) / 255)
    crop = folder / "crop.npy"
    np.save(crop, rgb[: min(900, rgb.shape[0]), : min(1200, rgb.shape[1])])
    tile = max(32, min(256, max(np.load(crop).shape) // 4))
    on = {"scale": scale}
    return [
        ("default", first, on, 1024),
        ("strength 1", first, {**on, "strength": 1.0}, 1024),
        ("colours kept", first, {**on, "preserve_colors": True}, 1024),
        ("colours kept, strength 0.5", first, {**on, "preserve_colors": True, "strength": 0.5}, 1024),
        ("16-bit", deep, on, 1024),
        ("float", floats, {**on, "strength": 0.6}, 1024),
        (f"scale 0, tiles of {tile}", crop, {"scale": 0}, tile),
        (f"scale 0, tiles of {tile}, colours kept", crop, {"scale": 0, "preserve_colors": True}, tile),
    ]  # fmt: skip


def agreement(processes: dict, photos: dict, folder: Path, args: argparse.Namespace) -> list:
    """Rows (what, levels apart, values differing) of both sides' pictures."""
    checks = option_checks(next(iter(photos.values())), folder, args.scale)
    checks += [(f"{label(size)}, default", photo, {"scale": args.scale}, 1024)
               for size, photo in list(photos.items())[1:]]  # fmt: skip
    rows = []
    for what, photo, options, tile in checks:
        pictures = []
        for side in SIDES:
            out = folder / f"{side}.npy"
            processes[side].ask(
                do="picture", photo=str(photo), out=str(out), options=options, tile_size=tile
            )
            pictures.append(np.load(out))
        apart, share = levels_apart(*pictures)
        rows.append((what, apart, share))
        print(f"{what}: {apart:.3g} levels apart at most, {share:.4%} of values differ", flush=True)
    return rows


def peaks(trees: dict, model: Path, photos: dict, args: argparse.Namespace) -> dict:
    """Peak resident bytes per (size, side), each from fresh processes, sides taking turns:
    the median of `--memory-runs` (onnxruntime's own peak varies from run to run)."""
    found: dict[tuple, list[int]] = {}
    for _ in range(args.memory_runs):
        for size, photo in photos.items():
            for side in SIDES:
                process = SideProcess(trees[side], model)
                got = process.ask(
                    do="peak", photo=str(photo), threads=args.threads[0], scale=args.scale
                )
                found.setdefault((size, side), []).append(got["peak"])
                process.close()
    return {key: sorted(values) for key, values in found.items()}


def report_all(args, baseline, times, memory, pictures) -> results.Report:
    report = results.Report()
    subject = git("log", "-1", "--format=%h %s", baseline)[:90]
    report.add(
        f"`Stylizer.stylize` on a photo's array at stroke scale {args.scale:g} on the CPU "
        f"(the bundled sample photo scaled, with grain), today's code (`{subject}`) against "
        f"this checkout's, each in its own process, best of {args.rounds} interleaved rounds "
        "after a warm-up. 'around the model' is the whole call less the model alone at the "
        "working size: the shrink, the enlargement with the photo's detail, strength and the "
        "conversions. threads 0: all cores. Both sides give the model the same input and "
        "tiles the same statistics: the dither of the model's input (runtime/dither.py) and "
        "the extra exact layers of far-reduced thumbnails, which change the picture by "
        "design, are left out."
    )
    rows = []
    for (size, threads, side), got in times.items():
        if side != "new":
            continue
        old = times[size, threads, "today"]
        rest_old, rest_new = old["whole"] - old["model"], got["whole"] - got["model"]
        rows.append((label(size), threads, f"{old['whole'] * 1000:.0f}", f"{got['whole'] * 1000:.0f}",
                     f"{got['whole'] / old['whole']:.2f}", f"{rest_old * 1000:.0f}",
                     f"{rest_new * 1000:.0f}", f"{rest_new / rest_old:.2f}"))  # fmt: skip
    header = ["photo", "threads", "today ms", "new ms", "new/today", "around the model today ms",
              "new ms", "new/today"]  # fmt: skip
    report.table(header, rows, left=2)
    report.add(
        "Peak resident memory of a fresh process that loads the model and the photo and "
        f"stylizes it once (threads {args.threads[0]}), median of {args.memory_runs} "
        "processes a side (all of them in brackets):"
    )
    report.table(
        ["photo", "today MB", "new MB", "new/today"],
        [(label(size), megabytes(memory[size, "today"]), megabytes(memory[size, "new"]),
          f"{median(memory[size, 'new']) / median(memory[size, 'today']):.2f}")
         for size in args.sizes],
    )  # fmt: skip
    report.add("The two sides' pictures (options on the first photo):")
    report.table(
        ["picture", "largest difference (levels of 255)", "values that differ"],
        [(what, f"{apart:.3g}", f"{share:.3%}") for what, apart, share in pictures],
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="git revision timed as today's code (see above)")
    parser.add_argument("--sizes", type=parse_size, nargs="+", default=[(3840, 2160), (6000, 4000)])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each side")
    parser.add_argument("--threads", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--memory-runs", type=int, default=3, help="fresh processes a side")
    parser.add_argument("--scale", type=float, default=1.0, help="stroke scale (default 1)")
    parser.add_argument("--model", type=Path, default=BUNDLED_MODEL, help="style model file")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    results.add_arguments(parser, "pipeline", "The filter around the model: 4K and 24 MP")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    baseline = git("rev-parse", args.baseline or default_baseline())
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        folder = Path(tmp)
        model = Path(folder / "model.onnx")
        model.write_bytes(args.model.read_bytes())  # one file for both, however the tree changes
        photos = {}
        for size in args.sizes:
            photos[size] = folder / f"photo-{size[0]}x{size[1]}.npy"
            make_photo(photos[size], *size)
        worktree = folder / "today"
        git("worktree", "add", "--detach", str(worktree), baseline)
        try:
            trees = {"today": worktree, "new": ROOT}
            processes = {side: SideProcess(trees[side], model) for side in SIDES}
            try:
                pictures = agreement(processes, photos, folder, args)
                times = timings(processes, photos, args)
            finally:
                for process in processes.values():
                    process.close()
            memory = peaks(trees, model, photos, args)
        finally:
            git("worktree", "remove", "--force", str(worktree))
    report = report_all(args, baseline, times, memory, pictures)
    results.publish(args, report)
    if any(apart > 1 for _, apart, _ in pictures):
        sys.exit("the pictures differ by more than one level of 255")


if __name__ == "__main__":
    main()
