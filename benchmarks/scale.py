"""Stroke scale across image sizes, and what the working size saves on a large photo.

One held-out photo is enlarged (Lanczos) to each of `--sizes` px on its long side and
stylized twice: at the default stroke scale (1: the generator works at 1024 px, the photo's
finer detail is added back) and at scale 0 (the generator at full resolution, as before the
option existed). Every output is shrunk to 1024 px, a common relative scale, and judged
against the painting with benchmarks/judges.py's palette-blind texture and motif distances;
the drift is the largest distance over the smallest, minus 1. Then a 24 MP photo (6000×4000)
is timed both ways in one run, interleaved, and the ratio printed. `--sheet` draws the
outputs (rows: scale 1, scale 0; columns: the sizes), each shown at the same width.

    python benchmarks/scale.py [--photo PHOTO] [--style starry-night] \\
        [--painting PAINTING] [--sizes 1024,3000,6000] [--rounds 2] \\
        [--sheet docs/images/scale-sheet.jpg]

The enlarged photo has no detail finer than the original's 1024 px; what is measured is
whether the strokes keep their size relative to the picture, not the detail transfer
(tests/runtime/test_scale.py checks that the photo's own detail is carried over).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import results  # noqa: E402  (benchmarks/ is not a package)
from gallery import centered_text, font  # noqa: E402
from inference_speed import machine_line  # noqa: E402
from judges import Judges  # noqa: E402
from quality import DATASET_PHOTOS, load_rgb  # noqa: E402

DATASETS = DATASET_PHOTOS.parent
CELL = 400  # px: the width each output is shown at on the sheet
SCALES = (1.0, 0.0)


def enlarge(rgb: np.ndarray, long_side: int) -> np.ndarray:
    """The photo resized (Lanczos) to `long_side` px on its long side."""
    image = Image.fromarray(rgb)
    factor = long_side / max(image.size)
    size = (round(image.width * factor), round(image.height * factor))
    return np.array(image.resize(size, Image.Resampling.LANCZOS))  # writable, for torch


def to_reference(rgb: np.ndarray) -> np.ndarray:
    """An output shrunk to 1024 px on its long side: where the judges compare sizes."""
    return enlarge(rgb, 1024) if max(rgb.shape[:2]) != 1024 else rgb


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=DATASET_PHOTOS / "030_gcompris-fcat.jpg")
    parser.add_argument("--style", default="starry-night")
    parser.add_argument(
        "--painting", type=Path, default=DATASETS / "styles" / "040_opencv-starrynight.jpg"
    )
    parser.add_argument("--sizes", default="1024,3000,6000")
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each way")
    parser.add_argument("--sheet", type=Path)
    results.add_arguments(parser, "stroke-scale", "Stroke scale")
    args = parser.parse_args(argv)

    from style_plugin.runtime.stylizer import Stylizer

    print(machine_line())
    stylizer = Stylizer(device="cpu")
    judges = Judges("cpu")
    if judges.net is None:
        raise SystemExit(f"no VGG19 weights for the judges: {judges.vgg_reason}")
    reference = judges.reference(load_rgb(args.painting, 512))
    photo = load_rgb(args.photo, 1024)
    photo_features = judges.features(photo)
    sizes = [int(s) for s in args.sizes.split(",")]
    figures: dict[float, list[dict[str, float]]] = {s: [] for s in SCALES}
    outputs: dict[tuple[float, int], np.ndarray] = {}
    report = results.Report()
    report.add(
        f"One photo ({args.photo.name}) enlarged to each size, style {args.style}; every "
        "output shrunk to 1024 px and judged against the painting there."
    )
    rows = []
    for size in sizes:
        big = enlarge(photo, size)
        for scale in SCALES:
            started = time.perf_counter()
            out = stylizer.stylize_array(big, args.style, scale=scale)
            seconds = time.perf_counter() - started
            judged = judges.judge(to_reference(out), photo, photo_features, reference)
            figures[scale].append(judged)
            outputs[scale, size] = np.asarray(
                Image.fromarray(out).resize(
                    (CELL, round(CELL * out.shape[0] / out.shape[1])), Image.Resampling.LANCZOS
                )
            )
            row = (size, f"{scale:g}", f"{judged['texture_blind']:.3f}", f"{judged['motif']:.3f}")
            rows.append((*row, f"{seconds:.1f}"))
            print(f"  {' '.join(map(str, rows[-1]))}", flush=True)
    header = ["long side", "scale", "texture (palette-blind) ↓", "motif ↓", "seconds"]
    report.table(header, rows, left=0)
    drift = []
    for scale in SCALES:
        texture = [f["texture_blind"] for f in figures[scale]]
        motif = [f["motif"] for f in figures[scale]]
        drift.append(
            (
                f"{scale:g}",
                f"{max(texture) / min(texture) - 1:.1%}",
                f"{max(motif) / min(motif) - 1:.1%}",
            )
        )
    report.table(["scale", "texture drift across sizes", "motif drift"], drift, left=0)
    time_24mp(stylizer, photo, args.style, args.rounds, report)
    if args.sheet:
        draw_sheet(outputs, sizes, args.sheet)
        print(f"wrote {args.sheet}")
    results.publish(args, report)


def time_24mp(stylizer, photo: np.ndarray, style: str, rounds: int, report: results.Report) -> None:
    """Seconds for a 6000×4000 photo at scale 1 and at scale 0, interleaved rounds."""
    big = np.asarray(Image.fromarray(photo).resize((6000, 4000), Image.Resampling.LANCZOS))
    stylizer.stylize_array(big[:1024, :1024], style, scale=0)  # warm-up
    times: dict[float, list[float]] = {s: [] for s in SCALES}
    for _ in range(rounds):
        for scale in SCALES:
            started = time.perf_counter()
            stylizer.stylize_array(big, style, scale=scale)
            times[scale].append(time.perf_counter() - started)
    one, full = (statistics.median(times[s]) for s in SCALES)
    report.add(
        f"A 24 MP photo (6000×4000), median of {rounds} interleaved runs: {one:.1f} s at scale 1, "
        f"{full:.1f} s at scale 0: {full / one:.1f}x faster at the default."
    )


def draw_sheet(outputs: dict[tuple[float, int], np.ndarray], sizes: list[int], path: Path) -> None:
    """Rows: scale 1, scale 0; columns: the sizes; every output at the same width."""
    label, gap, head = 110, 6, 28
    height = max(o.shape[0] for o in outputs.values())
    sheet = Image.new(
        "RGB",
        (label + len(sizes) * (CELL + gap), head + len(SCALES) * (height + gap)),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    face = font(18)
    for column, size in enumerate(sizes):
        left = label + column * (CELL + gap)
        centered_text(draw, (left, 0, left + CELL, head), f"{size} px photo", face)
    for row, scale in enumerate(SCALES):
        top = head + row * (height + gap)
        name = "scale 1" if scale else "scale 0"
        centered_text(draw, (0, top, label, top + height), name, face)
        for column, size in enumerate(sizes):
            sheet.paste(Image.fromarray(outputs[scale, size]), (label + column * (CELL + gap), top))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=90)


if __name__ == "__main__":
    main()
