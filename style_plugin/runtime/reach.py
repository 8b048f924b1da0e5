"""How far a cut edge reaches into a model's result: the margin tiles and pieces need.

A tile's edge is not the image's, but the generator pads it as if it were (reflection, and
edge replication after upsampling), and every convolution after that carries the error a few
pixels further in, up to the receptive field of the layer read. For a model that paints strong
strokes along image borders the pixels next to a cut are off by half the output range. Tiles
and statistics pieces therefore keep a margin of the model's reach around every cut and use
only what lies beyond it: that part equals the untiled run's, up to rounding.

The reach is measured, not derived from the graph (its pads are computed at run time): noise
runs whole and cut, both normalised with the whole's statistics, and the reach is the farthest
distance from the cut at which the two results differ by more than rounding, rounded up to
the model's stride, plus one stride.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["ALIGN", "edge_reach"]

#: The generator's total stride (two stride-2 levels): tiles and pieces start on multiples of
#: it, so that each samples the same pixel grid as the whole image.
ALIGN = 4

#: run(batch float32 [1,3,h,w], statistics or None) -> ([1,C,h',w'] at a fixed stride, the
#: statistics it normalised with): the model, or a part of it (runtime/statistics.Infer).
Run = Callable[[np.ndarray, "np.ndarray | None"], "tuple[np.ndarray, np.ndarray | None]"]

#: A difference above this fraction of a channel's spread is the cut's doing; below, rounding
#: (a float16 trunk rounds a value's last bit differently when a global mean moves by 1e-7).
TOLERANCE = 1e-2


def edge_reach(run: Run, side: int = 256, largest: int = 2048) -> int:
    """Pixels from a cut edge within which `run`'s result differs from the uncut one: a
    multiple of ALIGN. Noise of `side` pixels runs whole and without a border of a quarter of
    it; a reach of a quarter or more doubles the side, up to `largest` (then that is the
    answer)."""
    noise = np.random.default_rng(0)
    while True:
        image = noise.random((1, 3, side, side), dtype=np.float32)
        cut = side // 4 // ALIGN * ALIGN
        whole, stats = run(image, None)
        part, _ = run(np.ascontiguousarray(image[:, :, cut:-cut, cut:-cut]), stats)
        stride = side // whole.shape[-1]
        start = cut // stride
        inner = whole[..., start : start + part.shape[-2], start : start + part.shape[-1]]
        spread = whole.std(axis=(2, 3), keepdims=True) + np.finfo(np.float32).tiny
        wrong = (np.abs(part - inner) / spread).max(axis=(0, 1)) > TOLERANCE
        rows, cols = np.nonzero(wrong)
        if rows.size == 0:
            return 0
        height, width = wrong.shape
        depth = np.minimum(np.minimum(rows, height - 1 - rows), np.minimum(cols, width - 1 - cols))
        reach = (int(depth.max()) + 1) * stride
        if reach < cut or side >= largest:
            return (math.ceil(reach / ALIGN) + 1) * ALIGN
        side *= 2
