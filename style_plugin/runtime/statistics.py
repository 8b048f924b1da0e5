"""The normalisation statistics the tiles of a big image share: the whole image's, found
without running the whole image at once.

A thumbnail of the image (URST's thumbnail instance normalisation, Chen et al. 2022) gives
every layer's statistics in one run, approximately: it lacks the image's fine detail, and the
error grows with the down-scale. The early layers are where that costs most, and where it is
cheapest to fix: layer k's statistics need the image only as far as layer k, with the layers
before it normalised by their (already exact) statistics. So after the thumbnail, one pass
per early layer runs the model cut short after that layer (runtime/truncate.py) over pieces
of the full-size image, and the pieces' means and variances add up to the whole image's.
How close that comes to the untiled result, with four such layers and with all of them
(`--exact-tiles`): docs/results.md, "Tiling".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from style_plugin.runtime.pixels import resize_rgb, to_batch

__all__ = ["EXACT_LAYERS", "Infer", "LayerProbe", "statistics_runs", "whole_image_statistics"]

#: infer(batch float32 [1,3,h,w], statistics or None) -> (stylized [1,3,h,w], statistics or None)
Infer = Callable[[np.ndarray, "np.ndarray | None"], "tuple[np.ndarray, np.ndarray | None]"]

#: How many early normalisation layers get exact statistics by default. Each costs a pass
#: over the image through the model cut short after it (for `fast`: 0.1, 0.15, 0.25, 0.3 of
#: a whole run); past the fourth the error falls more slowly than the cost grows
#: (docs/runtime.md).
EXACT_LAYERS = 4


@dataclass(frozen=True)
class LayerProbe:
    """The model run only as far as one normalisation layer.

    `run(batch [1,3,h,w], statistics [1,2K], layer)` returns that layer's own means then
    variances, [1, 2C], with `statistics` used by every layer before it. `channels` are the
    model's layers' channel counts, in order (they place a layer's columns in `statistics`).
    """

    channels: tuple[int, ...]
    run: Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def statistics_runs(
    shape: tuple[int, int], side: int, probe: LayerProbe | None, exact_layers: int | None
) -> int:
    """How many model runs `whole_image_statistics` makes for an image of `shape` (H, W)."""
    if probe is None:
        return 1
    layers = len(probe.channels[:exact_layers])
    return 1 + layers * len(_pieces(shape[0], side)) * len(_pieces(shape[1], side))


def whole_image_statistics(
    rgb: np.ndarray,
    infer: Infer,
    side: int,
    probe: LayerProbe | None = None,
    exact_layers: int | None = EXACT_LAYERS,
    step: Callable[[], None] = lambda: None,
) -> np.ndarray | None:
    """The model's normalisation statistics for `rgb`: from a thumbnail whose longer side is
    `side`, with the first `exact_layers` layers (None: all) made exact by `probe` passes over
    pieces of at most `side` pixels a side (no bigger than the thumbnail, so memory stays bounded).
    `step()` is called after every model run (progress, cancelling)."""
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    _, stats = infer(to_batch(resize_rgb(rgb, size)), None)
    step()
    if stats is None or probe is None:
        return stats
    stats = stats.copy()
    means, variances = np.split(stats[0], 2)  # views: writing them updates `stats`
    pieces = [(r, c) for r in _pieces(height, side) for c in _pieces(width, side)]
    offset = 0
    for layer, channels in enumerate(probe.channels[:exact_layers]):
        moments = np.zeros((2, channels))  # sums of area x mean and area x E[x^2]
        for (top, bottom), (left, right) in pieces:
            part = probe.run(to_batch(rgb[top:bottom, left:right]), stats, layer)[0]
            mean, variance = part[:channels].astype(np.float64), part[channels:]
            moments += (bottom - top) * (right - left) * np.stack([mean, variance + mean**2])
            step()
        mean = moments[0] / (height * width)
        columns = slice(offset, offset + channels)
        means[columns] = mean
        variances[columns] = np.maximum(moments[1] / (height * width) - mean**2, 0)
        offset += channels
    return stats


def _pieces(length: int, side: int) -> list[tuple[int, int]]:
    """[start, end) spans that cut `length` into about equal parts of at most `side` (+3)
    pixels, starting at multiples of 4 (the generator's stride, as tiles do)."""
    count = max(1, -(-length // side))
    starts = [round(i * length / count) // 4 * 4 for i in range(count)]
    return list(zip(starts, [*starts[1:], length], strict=True))
