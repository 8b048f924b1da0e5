"""The normalisation statistics the tiles of a big image share: the whole image's, found
without running the whole image at once.

A thumbnail of the image (URST's thumbnail instance normalisation, Chen et al. 2022) gives
every layer's statistics in one run, approximately: it lacks the image's fine detail, and the
error grows with the down-scale. The early layers are where that costs most, and where it is
cheapest to fix: layer k's statistics need the image only as far as layer k, with the layers
before it normalised by their (already exact) statistics. So after the thumbnail, one pass
per early layer runs the model cut short at that layer's activation (runtime/truncate.py)
over pieces of the full-size image, each with a margin of the model's reach around it
(runtime/reach.py), and adds up the activation's sums over the pieces' cores: the whole
image's means and variances, as one untiled run would find them. How close that comes to the
untiled result, with four such layers and with all of them (`--exact-tiles`):
docs/results.md, "Tiling".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from style_plugin.runtime.dither import model_batch
from style_plugin.runtime.pixels import resize_rgb
from style_plugin.runtime.reach import ALIGN

__all__ = [
    "EXACT_LAYERS",
    "FAR_DOWNSCALE",
    "Infer",
    "LayerProbe",
    "exact_layer_count",
    "statistics_runs",
    "whole_image_statistics",
]

#: infer(batch float32 [1,3,h,w], statistics or None) -> (stylized [1,3,h,w], statistics or None)
Infer = Callable[[np.ndarray, "np.ndarray | None"], "tuple[np.ndarray, np.ndarray | None]"]

#: How many early normalisation layers get exact statistics by default. Each costs a pass
#: over the image through the model cut short after it (for `fast`: 0.1, 0.15, 0.25, 0.3 of
#: a whole run); past the fourth the error falls more slowly than the cost grows
#: (docs/runtime.md), while the thumbnail is not much smaller than the image.
EXACT_LAYERS = 4
#: Where the image is more than this many times the thumbnail's size, twice as many layers
#: are made exact: the thumbnail's error grows with the down-scale, and at 2.4 times four
#: exact layers leave the bundled model 3.7-4.7 levels of 255 off the untiled result, eight
#: under 2.
FAR_DOWNSCALE = 1.5


@dataclass(frozen=True)
class LayerProbe:
    """The model run only as far as one normalisation layer.

    `run(batch [1,3,h,w], statistics [1,2K], layer)` returns the activation that layer
    normalises, float32 [1,C,h',w'] (h' = ceil(h / its stride)), with `statistics` used by
    every layer before it. `channels` are the model's layers' channel counts, in order (they
    place a layer's columns in `statistics`).
    """

    channels: tuple[int, ...]
    run: Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def statistics_runs(
    shape: tuple[int, int],
    side: int,
    probe: LayerProbe | None,
    exact_layers: int | None,
    reach: int = 0,
) -> int:
    """How many model runs `whole_image_statistics` makes for an image of `shape` (H, W)."""
    if probe is None:
        return 1
    layers = len(probe.channels[: exact_layer_count(shape, side, exact_layers)])
    return 1 + layers * len(_pieces(shape[0], side, reach)) * len(_pieces(shape[1], side, reach))


def exact_layer_count(shape: tuple[int, int], side: int, exact_layers: int | None) -> int | None:
    """How many layers `exact_layers` makes exact for an image of `shape` (H, W) and a
    thumbnail of `side`: twice as many past `FAR_DOWNSCALE` (None: all of them)."""
    if exact_layers is None:
        return None
    return 2 * exact_layers if max(shape) > FAR_DOWNSCALE * side else exact_layers


def whole_image_statistics(
    rgb: np.ndarray,
    infer: Infer,
    side: int,
    probe: LayerProbe | None = None,
    exact_layers: int | None = EXACT_LAYERS,
    step: Callable[[], None] = lambda: None,
    reach: int = 0,
    dither: float = 0.0,
) -> np.ndarray | None:
    """The model's normalisation statistics for `rgb`: from a thumbnail whose longer side is
    `side`, with the first `exact_layers` layers (None: all; twice as many where the image
    is more than `FAR_DOWNSCALE` times the thumbnail) made exact by `probe` passes over
    pieces of at most `side` pixels a side (no bigger than the thumbnail, so memory stays
    bounded). Each piece is a core plus `reach` pixels of the image around it (the model's
    reach, runtime/reach.py), and only the core counts. `step()` is called after every model
    run (progress, cancelling). `dither`: the noise the model sees (runtime/dither.py)."""
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    _, stats = infer(model_batch(resize_rgb(rgb, size), levels=dither), None)
    step()
    if stats is None or probe is None:
        return stats
    stats = stats.copy()
    means, variances = np.split(stats[0], 2)  # views: writing them updates `stats`
    pieces = [(r, c) for r in _pieces(height, side, reach) for c in _pieces(width, side, reach)]
    offset = 0
    exact = probe.channels[: exact_layer_count((height, width), side, exact_layers)]
    for layer, channels in enumerate(exact):
        sums = np.zeros((2, channels))  # of the activation and of its square, over the image
        count = 0
        for rows, cols in pieces:
            (top, bottom), (left, right) = _margin(rows, height, reach), _margin(cols, width, reach)
            piece = model_batch(rgb[top:bottom, left:right], top, left, dither)
            activation = probe.run(piece, stats, layer)[0]
            stride = _stride((bottom - top, right - left), activation.shape[1:])
            core = activation[
                :,
                (rows[0] - top) // stride : -(-(rows[1] - top) // stride),
                (cols[0] - left) // stride : -(-(cols[1] - left) // stride),
            ]
            sums += _channel_sums(core)
            count += core.shape[1] * core.shape[2]
            step()
        mean = sums[0] / count
        columns = slice(offset, offset + channels)
        means[columns] = mean
        variances[columns] = np.maximum(sums[1] / count - mean**2, 0)
        offset += channels
    return stats


def _pieces(length: int, side: int, reach: int = 0) -> list[tuple[int, int]]:
    """[start, end) cores that cut `length` into about equal parts, each at most `side` (+3)
    pixels with `reach` pixels added on both sides, starting at multiples of ALIGN (the
    generator's stride, as tiles do). A `length` within `side` is one piece, without margins."""
    if length <= side:
        return [(0, length)]
    core = max(ALIGN, side - 2 * reach)
    count = max(1, -(-length // core))
    starts = [round(i * length / count) // ALIGN * ALIGN for i in range(count)]
    return list(zip(starts, [*starts[1:], length], strict=True))


def _margin(core: tuple[int, int], length: int, reach: int) -> tuple[int, int]:
    """The span a core runs in: `reach` more on both sides, within [0, length)."""
    return max(0, core[0] - reach), min(length, core[1] + reach)


def _stride(size: tuple[int, int], activation: tuple[int, ...]) -> int:
    """The stride (1, 2 or 4) at which an input of `size` gave an activation of that size."""
    for stride in (1, 2, ALIGN):
        if all(-(-side // stride) == act for side, act in zip(size, activation, strict=True)):
            return stride
    raise ValueError(f"an activation of {activation} is no stride of an input of {size}")


def _channel_sums(activation: np.ndarray) -> np.ndarray:
    """[2, C] float64 sums of each channel of [C,h,w] and of its square."""
    sums = np.empty((2, activation.shape[0]))
    for channel, plane in enumerate(activation):
        values = plane.astype(np.float64)
        sums[0, channel] = values.sum()
        sums[1, channel] = np.square(values, out=values).sum()
    return sums
