"""Stroke size relative to the image: the generator paints at a working size, the photo's
finer detail is carried over to the full-size result.

A style model's strokes have a size in pixels, so on a 6000 px photo they shrink to a fine
texture that reads as a colour cast. With a `scale`, the generator runs on a copy whose long
side is `REFERENCE_SIDE / scale` pixels (never more than the image's own); the result is
enlarged back with bicubic interpolation and the detail that the smaller copy could not
hold (the photo minus its own enlarged small copy, in lightness) is added, so edges, text
and fine texture stay sharp under strokes that keep their size relative to the picture.
Bands of rows keep memory bounded at any image size.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image

from style_plugin.errors import Cancelled
from style_plugin.runtime.pixels import from_float, resize_rgb, to_float
from style_plugin.runtime.settings import REFERENCE_SIDE
from style_plugin.runtime.tiling import Finish

__all__ = ["BAND_ROWS", "enlarge_with_detail", "shrink", "working_size"]

#: Rows enlarged at a time (about 25 MB of float32 for an 8192 px wide image).
BAND_ROWS = 256
#: Lightness weights of the detail carried over (ITU-R BT.601, as colour preservation uses).
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


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
    """The image at `size` = (height, width) as float32 in [0, 1] (Lanczos, one channel at a
    time in the image's own type: no full-size float copy)."""
    return to_float(resize_rgb(rgb, (size[1], size[0])))


def enlarge_with_detail(
    original: np.ndarray,
    small_original: np.ndarray,
    small_stylized: np.ndarray,
    finish: Finish | None = None,
    cancel: Callable[[], bool] | None = None,
) -> np.ndarray:
    """The stylized small copy at the original's size, with the original's fine detail.

    `small_original` is the original shrunk to the working size (what the generator saw),
    `small_stylized` the generator's output for it (float32). Returns the original's dtype.
    """
    height, width = original.shape[:2]
    out = np.empty_like(original)
    for top in range(0, height, BAND_ROWS):
        if cancel is not None and cancel():
            raise Cancelled("stylizing was cancelled")
        bottom = min(height, top + BAND_ROWS)
        photo = to_float(original[top:bottom])
        painted = _enlarge_rows(small_stylized, (height, width), top, bottom)
        blurred = _enlarge_rows(small_original, (height, width), top, bottom)
        detail = (photo - blurred) @ _LUMA
        band = np.clip(painted + detail[..., None], 0, 1)
        if finish is not None:
            band = finish(photo, band)
        out[top:bottom] = from_float(band, original.dtype)
    return out


def _enlarge_rows(small: np.ndarray, size: tuple[int, int], top: int, bottom: int) -> np.ndarray:
    """Rows top..bottom of `small` enlarged to `size` = (height, width), bicubic, float32:
    band by band the same values as enlarging it whole (the box reads across band edges)."""
    height, width = size
    small_h, small_w = small.shape[:2]
    box = (0.0, top * small_h / height, float(small_w), bottom * small_h / height)
    planes = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(small[..., c]), "F").resize(
                (width, bottom - top), Image.Resampling.BICUBIC, box=box
            )
        )
        for c in range(3)
    ]
    return np.stack(planes, axis=2)
