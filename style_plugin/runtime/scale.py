"""Stroke size relative to the image: the generator paints at a working size, the photo's
finer detail is carried over to the full-size result.

A style model's strokes have a size in pixels, so on a 6000 px photo they shrink to a fine
texture that reads as a colour cast. With a `scale`, the generator runs on a copy whose long
side is `REFERENCE_SIDE / scale` pixels (never more than the image's own); the result is
enlarged back with bicubic interpolation and the detail that the smaller copy could not
hold (the photo minus its own enlarged small copy, in lightness) is added, so edges, text
and fine texture stay sharp under strokes that keep their size relative to the picture.

Enlarging is linear, so the small copy's lightness is taken from the painting before it is
enlarged and the photo's own lightness added at full size: three planes enlarged, not six.
Bands of a few dozen rows keep every float temporary small (in the CPU's cache) and memory
bounded at any image size; `workers` threads take bands at once (Pillow's resampling and
numpy release the GIL).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from style_plugin.errors import Cancelled
from style_plugin.runtime.pixels import float_into, luma, resize_rgb, to_float
from style_plugin.runtime.settings import REFERENCE_SIDE
from style_plugin.runtime.tiling import Finish

__all__ = ["BAND_ROWS", "enlarge_with_detail", "shrink", "working_size"]

#: Rows finished at a time: two float32 copies of a band are about 3 MB at 4K width.
BAND_ROWS = 32


def working_size(height: int, width: int, scale: float) -> tuple[int, int] | None:
    """(height, width) to run the generator at for `scale`, or None for the image's own size
    (scale 0, or an image no larger than the working size: it is never enlarged)."""
    if not (np.isfinite(scale) and scale >= 0):
        raise ValueError(f"scale must be 0 (full resolution) or more, got {scale}")
    longest = max(height, width)
    if scale == 0 or longest * scale <= REFERENCE_SIDE:
        return None
    factor = REFERENCE_SIDE / (scale * longest)
    return max(1, round(height * factor)), max(1, round(width * factor))


def shrink(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The image at `size` = (height, width) as float32 in [0, 1], Lanczos in the image's own
    type: 8-bit as one Pillow RGB image (the values of three single channels, in about half
    the time), deeper values one channel at a time (no full-size float copy of all three)."""
    if rgb.dtype != np.uint8:
        return to_float(resize_rgb(rgb, (size[1], size[0])))
    whole = Image.fromarray(np.ascontiguousarray(rgb))
    return to_float(np.asarray(whole.resize((size[1], size[0]), Image.Resampling.LANCZOS)))


def enlarge_with_detail(
    original: np.ndarray,
    small_original: np.ndarray,
    small_stylized: np.ndarray,
    finish: Finish | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int = 1,
) -> np.ndarray:
    """The stylized small copy at the original's size, with the original's fine detail.

    `small_original` is the original shrunk to the working size (what the generator saw),
    `small_stylized` the generator's output for it (float32). Returns the original's dtype.
    `finish` (colours, strength) runs on every band; `workers` threads (0: one per CPU)
    finish bands at once.
    """
    height, width = original.shape[:2]
    strokes = _strokes(small_original, small_stylized)
    out = np.empty_like(original)

    def finish_band(top: int) -> None:
        bottom = min(height, top + BAND_ROWS)
        photo = _planes(bottom - top, width)
        for c in range(3):  # channel by channel: each plane is read and written in order
            to_float(original[top:bottom, :, c], out=photo[..., c])
        band = _enlarge_rows(strokes, (height, width), top, bottom)
        band += luma(photo)[..., None]
        np.clip(band, 0, 1, out=band)
        if finish is not None:
            band = finish(photo, band)
        for c in range(3):
            float_into(band[..., c], out[top:bottom, :, c])

    _in_bands(range(0, height, BAND_ROWS), finish_band, workers, cancel)
    return out


def _strokes(small_original: np.ndarray, small_stylized: np.ndarray) -> list[Image.Image]:
    """The painting less the small copy's lightness, one float image per channel: enlarged
    and added to the photo's lightness, it is the enlarged painting plus the photo's detail."""
    lightness = luma(small_original)
    return [Image.fromarray(small_stylized[..., c] - lightness) for c in range(3)]


def _planes(rows: int, width: int) -> np.ndarray:
    """An empty rows x width x 3 float32 array stored plane by plane (channel c contiguous)."""
    return np.empty((3, rows, width), np.float32).transpose(1, 2, 0)


def _enlarge_rows(
    planes: list[Image.Image], size: tuple[int, int], top: int, bottom: int
) -> np.ndarray:
    """Rows top..bottom of the `planes` enlarged to `size` = (height, width), bicubic, float32:
    band by band the same values as enlarging them whole (the box reads across band edges)."""
    height, width = size
    small_w, small_h = planes[0].size
    box = (0.0, top * small_h / height, float(small_w), bottom * small_h / height)
    rows = _planes(bottom - top, width)
    for c, plane in enumerate(planes):
        rows[..., c] = np.asarray(
            plane.resize((width, bottom - top), Image.Resampling.BICUBIC, box=box)
        )
    return rows


def _in_bands(
    tops: Iterable[int],
    work: Callable[[int], None],
    workers: int,
    cancel: Callable[[], bool] | None,
) -> None:
    """`work(top)` for every band, on `workers` threads (0: one per CPU); `cancel` is asked
    between bands, on the calling thread (a host's callback may touch its GUI)."""

    def check() -> None:
        if cancel is not None and cancel():
            raise Cancelled("stylizing was cancelled")

    workers = workers or _cpus()
    if workers <= 1:
        for top in tops:
            check()
            work(top)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="style-plugin-band") as pool:
        pending = [pool.submit(work, top) for top in tops]
        try:
            check()
            for band in pending:
                band.result()
                check()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def _cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
