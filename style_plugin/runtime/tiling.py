"""Stylize images of any size in overlapping tiles, at bounded memory, without seams.

Two things make tiles of a normalised network disagree: each tile would normalise with its
own statistics (colour and contrast shift from tile to tile), and pixels near a tile's edge
see reflection padding instead of their real neighbours. The first is removed with whole-image
statistics: they are found first (a thumbnail, then exact passes for the early layers:
runtime/statistics.py), and every tile normalises with them (the model file's `norm_stats`
inputs, docs/style-model.md). The second is removed by overlap: tiles overlap by at least
twice the model's reach (how far a cut edge falsifies its result, runtime/reach.py), and a
tile's pixels within that reach of a cut count for nothing, so every pixel comes from tiles
that saw all its neighbours. Beyond the reach, tile weights ramp linearly across the rest
of the overlap (neighbours sum to 1): a model without shared statistics, whose tiles differ,
blends them.

Memory stays bounded: tiles are processed one row of tiles at a time, and only the rows that
later tiles still overlap are kept in float; finished rows go straight into the output array
in the input's own dtype. The thumbnail bounds the largest single run, so an image no bigger
than the thumbnail runs whole, once: that run is the untiled result. With shared statistics,
tiles reproduce one run of the whole image with those statistics, so the only difference
from the untiled result is how far the statistics are from the image's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from style_plugin.errors import Cancelled
from style_plugin.runtime.dither import model_batch
from style_plugin.runtime.pixels import float_into, to_float
from style_plugin.runtime.reach import ALIGN
from style_plugin.runtime.statistics import (
    EXACT_LAYERS,
    Infer,
    LayerProbe,
    statistics_runs,
    whole_image_statistics,
)

__all__ = [
    "ALIGN",
    "DEFAULT_OVERLAP",
    "DEFAULT_TILE_SIZE",
    "THUMBNAIL_SCALE",
    "Infer",
    "TileSettings",
    "stylize_tiled",
    "tile_overlap",
    "tile_spans",
]

#: finish(original float32 HxWx3, stylized float32 HxWx3) -> float32 HxWx3 (strength, colours);
#: it may overwrite `stylized` (and return it).
Finish = Callable[[np.ndarray, np.ndarray], np.ndarray]

DEFAULT_TILE_SIZE = 1024
DEFAULT_OVERLAP = 128
#: The statistics thumbnail's side over the tile size. Its error grows with the down-scale,
#: its memory with its area: 2.5x the tile keeps an 8192x8192 RGBA image under 1.5 GB
#: (docs/results.md, "Memory").
THUMBNAIL_SCALE = 2.5


@dataclass(frozen=True)
class TileSettings:
    """Tiles of at most `tile_size` (+ALIGN-1) pixels a side, overlapping by about `overlap`,
    or by twice the model's reach and ALIGN where that is more.

    The thumbnail that provides whole-image statistics is scaled to `thumbnail_side`
    (default: `THUMBNAIL_SCALE` x the tile size) on its longer side, and the first
    `exact_layers` normalisation layers (twice as many for an image more than
    `statistics.FAR_DOWNSCALE` times the thumbnail) get exact statistics from passes over the
    full-size image (0: the thumbnail's for all; None: every layer's, so that tiles reproduce
    the untiled result, at 2-4x the time). Images no bigger than the thumbnail run whole.
    """

    tile_size: int = DEFAULT_TILE_SIZE
    overlap: int = DEFAULT_OVERLAP
    thumbnail_side: int | None = None
    exact_layers: int | None = EXACT_LAYERS

    def __post_init__(self) -> None:
        if self.tile_size < 32:
            raise ValueError(f"tile size must be at least 32 pixels, not {self.tile_size}")
        if not 0 <= self.overlap <= self.tile_size // 2:
            raise ValueError(
                f"tile overlap must be between 0 and half the tile size ({self.tile_size // 2})"
            )
        if self.exact_layers is not None and self.exact_layers < 0:
            raise ValueError(f"exact layers must be 0 or more, not {self.exact_layers}")


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """[start, end) of the tiles along one axis: evenly spread, aligned starts, covering all.

    Every start is a multiple of ALIGN; neighbours overlap by about `overlap` pixels (a few
    less after alignment); the last tile ends at `length` and may be up to ALIGN-1 longer.
    """
    if length <= tile + ALIGN - 1:
        return [(0, length)]
    count = math.ceil((length - overlap) / (tile - overlap))
    last = (length - tile) // ALIGN * ALIGN
    starts = [round(i * last / (count - 1)) // ALIGN * ALIGN for i in range(count)]
    starts[-1] = last
    ends = [min(s + tile, length) for s in starts[:-1]] + [length]
    return list(zip(starts, ends, strict=True))


def _ramp(spans: list[tuple[int, int]], index: int, reach: int) -> np.ndarray:
    """Blend weights along one axis for tile `index`: 0 within `reach` of a cut edge, then a
    linear ramp across the rest of each overlap."""
    start, end = spans[index]
    weights = np.ones(end - start, dtype=np.float32)
    if index > 0:
        overlap = spans[index - 1][1] - start
        if overlap > 0:
            weights[:overlap] = _rising(overlap, reach)
    if index < len(spans) - 1:
        overlap = end - spans[index + 1][0]
        if overlap > 0:
            weights[-overlap:] = np.minimum(weights[-overlap:], _rising(overlap, reach)[::-1])
    return weights


def _rising(overlap: int, reach: int) -> np.ndarray:
    """Weights across an overlap from the tile's edge inwards: `reach` zeros, a linear ramp,
    `reach` ones; with the mirrored weights of the neighbour they sum to 1."""
    band = max(1, overlap - 2 * reach)
    ramp = (np.arange(band, dtype=np.float32) + 0.5) / band
    weights = np.concatenate([np.zeros(reach, np.float32), ramp, np.ones(reach, np.float32)])
    return weights[:overlap]


def _reach_within(tile: int, reach: int) -> int:
    """The reach tiles of `tile` pixels keep clear of: all of it where that takes an overlap
    of at most 3/4 of the tile (so tiles advance by a quarter of their size or more), else
    that much of it."""
    return max(0, min(reach, (tile * 3 // 4 - ALIGN) // 2 // ALIGN * ALIGN))


def tile_overlap(settings: TileSettings, reach: int = 0) -> int:
    """How much tiles of `settings` overlap for a model of `reach` (runtime/reach.py)."""
    tile_reach = _reach_within(settings.tile_size, reach)
    return max(settings.overlap, 2 * tile_reach + ALIGN if tile_reach else 0)


def stylize_tiled(
    rgb: np.ndarray,
    infer: Infer,
    settings: TileSettings = TileSettings(),
    *,
    probe: LayerProbe | None = None,
    finish: Finish | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    shared_statistics: bool = True,
    reach: int = 0,
    dither: float = 0.0,
) -> np.ndarray:
    """Stylize an HxWx3 array (uint8, uint16 or float32) and return one of the same dtype.

    `probe` (a model that reports each layer's statistics) makes the early layers' shared
    statistics exact. `finish` post-processes each finished band of rows in float (strength,
    colour preservation: both per pixel). `progress(done, total)` is called after every model run;
    `cancel()` returning True stops between runs with Cancelled. Without
    `shared_statistics` (a model that does not expose them) tiles normalise on their own and
    only the ramps blend their borders. `reach` is how far a cut edge falsifies the model's
    result (runtime/reach.py): tiles overlap by more than twice it (as far as the tile size
    allows: `tile_overlap`) and ignore what lies within it of a cut, and so do the pieces of
    the exact passes. `dither` is the noise added to what the model sees, in levels of 255
    (runtime/dither.py): every tile and piece sees the same pattern where they overlap.
    """
    height, width = rgb.shape[:2]
    tile_reach, overlap = _reach_within(settings.tile_size, reach), tile_overlap(settings, reach)
    rows = tile_spans(height, settings.tile_size, overlap)
    cols = tile_spans(width, settings.tile_size, overlap)
    thumbnail = shared_statistics and not (len(rows) == 1 and len(cols) == 1)
    side = settings.thumbnail_side or round(THUMBNAIL_SCALE * settings.tile_size)
    if thumbnail and max(height, width) <= side:
        # The image is its own thumbnail: one run of it whole is the untiled result.
        rows, cols, thumbnail = [(0, height)], [(0, width)], False
    runs = (
        statistics_runs((height, width), side, probe, settings.exact_layers, reach)
        if thumbnail
        else 0
    )
    total = len(rows) * len(cols) + runs
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)
        if cancel is not None and cancel() and done < total:
            raise Cancelled("stylizing was cancelled")

    if cancel is not None and cancel():
        raise Cancelled("stylizing was cancelled")
    stats = None
    if thumbnail:
        stats = whole_image_statistics(
            rgb, infer, side, probe, settings.exact_layers, step, reach, dither
        )
    output = np.empty_like(rgb)
    if len(rows) == len(cols) == 1:  # one run of the whole image: nothing to blend
        tile, _ = infer(model_batch(rgb, levels=dither), stats)
        step()
        return _finish_rows(rgb, tile[0].transpose(1, 2, 0), finish, output)
    col_weights = [_ramp(cols, j, tile_reach) for j in range(len(cols))]
    band_top = 0  # first row not yet written to `output`
    acc = np.zeros((0, width, 3), dtype=np.float32)
    weight = np.zeros((0, width, 1), dtype=np.float32)
    for i, (top, bottom) in enumerate(rows):
        grow = bottom - band_top - acc.shape[0]
        acc = np.concatenate([acc, np.zeros((grow, width, 3), np.float32)])
        weight = np.concatenate([weight, np.zeros((grow, width, 1), np.float32)])
        row_weights = _ramp(rows, i, tile_reach)[:, None]
        for j, (left, right) in enumerate(cols):
            tile, _ = infer(model_batch(rgb[top:bottom, left:right], top, left, dither), stats)
            w = (row_weights * col_weights[j][None, :])[..., None]
            acc[top - band_top : bottom - band_top, left:right] += tile[0].transpose(1, 2, 0) * w
            weight[top - band_top : bottom - band_top, left:right] += w
            step()
        keep_from = rows[i + 1][0] if i + 1 < len(rows) else height
        done_rows = keep_from - band_top
        result = acc[:done_rows] / np.maximum(weight[:done_rows], 1e-12)
        _finish_rows(rgb[band_top:keep_from], result, finish, output[band_top:keep_from])
        acc, weight = acc[done_rows:], weight[done_rows:]
        band_top = keep_from
    return output


def _finish_rows(
    original: np.ndarray, stylized: np.ndarray, finish: Finish | None, out: np.ndarray
) -> np.ndarray:
    """The `stylized` rows (float32, overwritten) finished against the `original` rows, into
    `out`, of the original's dtype; returns `out`."""
    if finish is not None:
        stylized = finish(to_float(original), stylized)
    return float_into(stylized, out)
