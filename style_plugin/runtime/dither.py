"""The model's input, dithered: a fixed pattern of fine noise added to the picture.

A smooth gradient in 8 bits is a staircase: flat steps one level apart, evenly spaced. The
generator's instance normalisation divides a near-flat area by its tiny variance, so it
amplifies those steps into a regular lattice of painted lines (docs/results.md, "Flaws").
A few levels of noise break the staircase's regularity and give a flat area a texture for
the strokes to follow, as texture networks feed noise to their generators (Ulyanov et al.
2016); photos carry that much noise of their own, so what the model paints on them hardly
changes.

The noise is a hash of each pixel's coordinates and channel, not a random draw: the same
picture gives the same result every time, and tiles, the pieces of the statistics passes
and a video's frames all see the same pattern where they overlap.
"""

from __future__ import annotations

import numpy as np

from style_plugin.runtime.pixels import to_batch

__all__ = ["DITHER_LEVELS", "dither_pattern", "model_batch"]

#: Standard deviation of the noise, in levels of 255: enough to hide the staircase of an 8-bit
#: gradient from the model (its lines' spectral peaks fall to the level of a painted texture's
#: own), little beside a photo's own grain (docs/results.md, "Flaws").
DITHER_LEVELS = 4.0

_MIX = (np.uint32(0x7FEB352D), np.uint32(0x846CA68B))
_AXES = (np.uint32(0x8DA6B343), np.uint32(0xD8163841), np.uint32(0xCB1AB31F))


def dither_pattern(top: int, left: int, height: int, width: int, levels: float) -> np.ndarray:
    """float32 [3, height, width]: the noise for rows top.. and columns left.. of the picture,
    triangular (the sum of two uniform values), zero mean, standard deviation `levels` / 255."""
    rows = np.arange(top, top + height, dtype=np.uint32)[:, None] * _AXES[0]
    cols = np.arange(left, left + width, dtype=np.uint32)[None, :] * _AXES[1]
    planes = np.empty((3, height, width), np.float32)
    for channel in range(3):
        value = rows ^ cols ^ np.uint32((channel + 1) * int(_AXES[2]) & 0xFFFFFFFF)
        value ^= value >> np.uint32(16)
        value *= _MIX[0]
        value ^= value >> np.uint32(15)
        value *= _MIX[1]
        value ^= value >> np.uint32(16)
        high, low = value >> np.uint32(16), value & np.uint32(0xFFFF)
        planes[channel] = high.astype(np.float32) + low.astype(np.float32)
    # (high + low) / 65536 - 1 is triangular on (-1, 1), of standard deviation 1 / sqrt(6)
    scale = np.float32(levels / 255 * np.sqrt(6) / 65536)
    planes *= scale
    planes -= np.float32(levels / 255 * np.sqrt(6))
    return planes


def model_batch(rgb: np.ndarray, top: int = 0, left: int = 0, levels: float = 0.0) -> np.ndarray:
    """The model's float32 [1, 3, h, w] batch for HxWx3 `rgb`, the part of the picture whose
    first pixel is at (`top`, `left`), with `levels` of dither added."""
    batch = to_batch(rgb)
    if levels > 0:
        noise = dither_pattern(top, left, rgb.shape[0], rgb.shape[1], levels)
        if np.shares_memory(batch, rgb):
            batch = batch + noise[None]
        else:
            batch += noise[None]
    return batch
