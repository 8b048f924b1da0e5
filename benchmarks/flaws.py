"""Two flaws a style model can paint: a frame at the picture's edge, a lattice in smooth areas.

*Edge bands.* A model that learnt a painting's frame paints a strip along the picture's sides.
Along each side, the column profile (the image averaged along the side: texture averages out,
a strip does not) gives the step between the outer `BAND` pixels and the `NEXT` pixels after
them; the figure is how far that step differs from the photo's own step there, in levels of
255, averaged over the four sides. The same figure measured at lines inside the picture is
what texture alone gives: a model without a painted frame has an edge figure no larger than
its interior one.

*Lattice.* On a smooth 8-bit colour gradient, a model with a high gain to tiny differences
turns the gradient's quantisation steps (a line every few pixels) into painted lines, which
read as banding in skies and walls. A lattice is a period that stands out: in the spectrum of
the stylized gradient's high-passed lightness, a peak many times the median of its
neighbourhood (`NEIGHBOURHOOD` bins each way). The figure is the most prominent peak of at
least `VISIBLE` levels of 255: its prominence (peak over that median), amplitude and period.
Painted texture spreads over the spectrum and stands out a few times its neighbourhood, as
it does on stylized photos; a lattice of lines, hundreds of times.

    python benchmarks/flaws.py [--model MODEL.onnx] [--photos 6] [--size 512] \\
        [--datasets ../shared/datasets] [--results docs/results.md]

Held-out photos (numbers ending in 0) come from DATASETS/content; the gradients are made here.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import results  # noqa: E402  (benchmarks/ is not a package)

#: Width of the outer band, and of the band after it, in pixels (at 512 px).
BAND, NEXT = 6, 12
#: The shipped style model.
DEFAULT_MODEL = ROOT / "style_plugin" / "data" / "models" / "default.onnx"
#: Spectrum bins on each side of a peak that make its neighbourhood.
NEIGHBOURHOOD = 6
#: Amplitude, in levels of 255, below which a periodic pattern does not show.
VISIBLE = 0.5
#: Lightness weights (ITU-R BT.601).
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _side_views(image: np.ndarray) -> list[np.ndarray]:
    """The image turned so that each of its four sides is the left one."""
    turned = image.transpose(1, 0, 2)
    return [image, image[:, ::-1], turned, turned[:, ::-1]]


def _profile_step(image: np.ndarray, at: int) -> np.ndarray:
    """Per channel: mean of columns [at, at+BAND) minus mean of the NEXT columns after them."""
    profile = image.mean(axis=0)
    return profile[at : at + BAND].mean(axis=0) - profile[at + BAND : at + BAND + NEXT].mean(axis=0)


def band_excess(stylized: np.ndarray, photo: np.ndarray, at: int) -> float:
    """How far the stylized profile step at column `at` (from each side) is from the photo's,
    in levels of 255, averaged over channels and the four sides (float HxWx3 in [0, 1])."""
    steps = [
        np.abs(_profile_step(s, at) - _profile_step(p, at)).mean()
        for s, p in zip(_side_views(stylized), _side_views(photo), strict=True)
    ]
    return 255.0 * float(np.mean(steps))


def edge_bands(stylized: np.ndarray, photo: np.ndarray) -> tuple[float, float]:
    """(edge, interior): `band_excess` at the sides, and its mean over lines inside the picture
    (from a quarter of the shorter side in, every BAND + NEXT pixels to the middle)."""
    inner_from = min(stylized.shape[:2]) // 4
    inner_to = min(stylized.shape[:2]) // 2 - BAND - NEXT
    inner = [band_excess(stylized, photo, at) for at in range(inner_from, inner_to, BAND + NEXT)]
    return band_excess(stylized, photo, 0), float(np.mean(inner))


def smooth_gradients(size: int) -> list[np.ndarray]:
    """8-bit colour gradients (float HxWx3): a sky from top to bottom, a wall from left to
    right, and a diagonal one; each spans about 50 levels, so its quantisation steps are a
    regular pattern of lines 10-20 px apart."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    ramps = [
        (y, (0.45, 0.62, 0.86), (0.72, 0.82, 0.95)),
        (x, (0.78, 0.70, 0.58), (0.62, 0.55, 0.45)),
        ((x + y) / 2, (0.35, 0.55, 0.85), (0.55, 0.70, 0.95)),
    ]
    images = []
    for t, start, end in ramps:
        a, b = np.array(start, np.float32), np.array(end, np.float32)
        images.append(np.round((a + (b - a) * t[..., None]) * 255) / 255)
    return images


def _box_blur(plane: np.ndarray, k: int) -> np.ndarray:
    """Mean over k x k windows (k odd), edges reflected."""
    padded = np.pad(plane, k // 2, mode="reflect")
    c = np.pad(padded.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)


def lattice(stylized: np.ndarray) -> tuple[float, float, float]:
    """(prominence, amplitude in levels of 255, period in px) of the most prominent periodic
    pattern of at least `VISIBLE` levels in the high-passed lightness of float HxWx3
    `stylized` (of the strongest one where none is that strong)."""
    from numpy.lib.stride_tricks import sliding_window_view

    lightness = stylized @ _LUMA
    detail = (lightness - _box_blur(lightness, 31))[16:-16, 16:-16]
    window = np.outer(np.hanning(detail.shape[0]), np.hanning(detail.shape[1]))
    spectrum = np.abs(np.fft.rfft2(detail * window))
    fy = np.fft.fftfreq(detail.shape[0])[:, None]
    fx = np.fft.rfftfreq(detail.shape[1])[None, :]
    radius = np.hypot(fy, fx)
    spectrum[radius < 1 / 48] = 0  # what the high-pass leaves of slow changes
    amplitude = 255.0 * 2 * spectrum / window.sum()
    k = NEIGHBOURHOOD
    around = np.pad(spectrum, ((k, k), (0, 0)), mode="wrap")  # rows: frequencies wrap around
    around = np.pad(around, ((0, 0), (k, k)), mode="reflect")  # columns: half a spectrum
    median = np.median(sliding_window_view(around, (2 * k + 1, 2 * k + 1)), axis=(-2, -1))
    prominence = spectrum / np.maximum(median, 1e-12)
    visible = amplitude >= VISIBLE
    if visible.any():
        peak = np.unravel_index(np.argmax(np.where(visible, prominence, 0)), spectrum.shape)
    else:
        peak = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    return float(prominence[peak]), float(amplitude[peak]), float(1 / radius[peak])


@contextlib.contextmanager
def _undithered() -> Iterator[None]:
    """The runtime without its dither, for the figure it answers."""
    from style_plugin.runtime import stylizer

    levels, stylizer.DITHER_LEVELS = stylizer.DITHER_LEVELS, 0.0
    try:
        yield
    finally:
        stylizer.DITHER_LEVELS = levels


def _held_out(datasets: Path, count: int) -> list[Path]:
    photos = sorted(
        p for p in (datasets / "content").glob("*.jpg") if p.name.split("_")[0][-1] == "0"
    )
    return photos[:count]


def _load(path: Path, size: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        return np.asarray(image, dtype=np.float32) / 255.0


def main(argv: Sequence[str] | None = None) -> int:
    from style_plugin import Stylizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--datasets", type=Path, default=ROOT.parent / "shared" / "datasets")
    results.add_arguments(parser, "flaws", "Flaws: edge bands and lattice")
    args = parser.parse_args(argv)

    stylizer = Stylizer(args.model)
    photos = [_load(p, args.size) for p in _held_out(args.datasets, args.photos)]
    gradients = smooth_gradients(args.size)
    report = results.Report()
    rows = []
    for style in stylizer.model_for().styles:
        bands = [edge_bands(stylizer.stylize_array(p, style.name), p) for p in photos]
        lines = [lattice(stylizer.stylize_array(g, style.name)) for g in gradients]
        textures = [lattice(stylizer.stylize_array(p, style.name)) for p in photos]
        worst = max(lines)
        with _undithered():
            plain = max(lattice(stylizer.stylize_array(g, style.name)) for g in gradients)
        rows.append(
            (
                style.name,
                f"{np.mean([b[0] for b in bands]):.2f}",
                f"{np.mean([b[1] for b in bands]):.2f}",
                f"{worst[0]:.0f}",
                f"{worst[1]:.2f}",
                f"{worst[2]:.1f}",
                f"{max(textures)[0]:.0f}",
                f"{plain[0]:.0f}",
            )
        )
    report.add(
        f"{len(photos)} held-out photos and 3 smooth 8-bit gradients at {args.size} px, "
        f"default settings, model {args.model.name}. Edge and interior: how far the column "
        f"profile's step between the outer {BAND} px and the next {NEXT} px differs from the "
        "photo's, in levels of 255 (four sides; interior: the same at lines inside). Lattice: "
        f"how many times the median of its neighbourhood the most prominent periodic pattern "
        f"of at least {VISIBLE} level in a stylized gradient stands out (the worst of the "
        "three), its amplitude in levels of 255 and its period; photos: the same figure on "
        "the stylized photos (the worst), what painted texture gives; undithered: the lattice "
        "figure with the model's input not dithered (runtime/dither.py)."
    )
    header = [
        "style",
        "edge",
        "interior",
        "lattice",
        "amplitude",
        "period px",
        "photos",
        "undithered",
    ]
    report.table(header, rows)
    results.publish(args, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
