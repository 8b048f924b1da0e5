"""Find and cut off a painting's frame, border, margin or scanner edge before training.

A style network learns whatever its painting shows, and a frame along the painting's side is
learnt as "paint a strip at the picture's edge". What gives a frame away is that it follows
the side: its inner edge is a straight line parallel to it, and the frame itself varies
little along its length. Painted texture does neither: the edges in a painting are short and
run every way, so the median of a column's step over all rows is small in a painting and
large where a frame meets it.

For each side, the cut goes at the innermost line within the outer `MAX_FRAME` of the side
whose median step stands out from the painting's own (`_straight_edges`) and outside which
the lines vary along their length much less than the painting's do (a frame, not a horizon
or a table edge); and at least past the run of flat lines from the side (`_flat_run`, up to
`MAX_MARGIN` of the side, and ending at a step: a margin or a scanner's edge). A painting whose border belongs to it
keeps it with `keep_borders` (docs/training.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["MAX_FRAME", "MAX_MARGIN", "Border", "find_border", "trim_border"]

#: The widest frame looked for, as a fraction of the side it runs along.
MAX_FRAME = 0.06
#: The widest flat margin looked for, as a fraction of the side it runs along.
MAX_MARGIN = 0.12
#: A line is a frame's inner edge when its median step is this many times the painting's
#: typical median step, and at least `_MIN_EDGE` (RGB sum in [0, 3]) ...
_EDGE_FACTOR = 3.0
_MIN_EDGE = 0.06
#: ... and the lines outside it vary along their length (median) at most this fraction of
#: the painting's typical line.
_FRAME_VARIATION = 0.5
#: A line is flat (a margin) when its variation along its length is below this fraction of
#: the painting's typical variation and below `_MAX_FLAT` (RGB sum: about two levels of 255
#: in each channel).
_FLAT_FACTOR = 0.25
_MAX_FLAT = 0.025
#: The least typical variation assumed (a painting mostly of one flat ground has none).
_MIN_VARIATION = 0.04
#: Pixels cut past the edge found (a frame's edge is blurred over a pixel or two by scanning
#: and resampling).
_MARGIN = 2
#: Lines compared on each side of a candidate edge (their mean, against noise).
_STEP_WIDTH = 2


@dataclass(frozen=True)
class Border:
    """Pixels cut from each side (0 where the side has no border)."""

    left: int = 0
    top: int = 0
    right: int = 0
    bottom: int = 0

    def __bool__(self) -> bool:
        return any((self.left, self.top, self.right, self.bottom))

    def describe(self) -> str:
        """'9 px left, 12 px right' (the sides with a border)."""
        sides = ("left", "top", "right", "bottom")
        return ", ".join(f"{getattr(self, s)} px {s}" for s in sides if getattr(self, s))


def _straight_edges(columns: np.ndarray) -> np.ndarray:
    """Median over rows of the step between the `_STEP_WIDTH` columns before each boundary and
    the ones after it; `columns` is HxWx3 float, the result W-1 long (NaN where a side has
    fewer than `_STEP_WIDTH` columns)."""
    k = _STEP_WIDTH
    csum = np.concatenate([np.zeros_like(columns[:, :1]), np.cumsum(columns, axis=1)], axis=1)
    width = columns.shape[1]
    steps = np.full(width - 1, np.nan)
    for boundary in range(k, width - k + 1):
        before = (csum[:, boundary] - csum[:, boundary - k]) / k
        after = (csum[:, boundary + k] - csum[:, boundary]) / k
        steps[boundary - 1] = np.median(np.abs(after - before).sum(axis=-1))
    return steps


def _step(rgb: np.ndarray, boundary: int) -> float:
    """The median step at one boundary (between columns boundary - 1 and boundary)."""
    k = _STEP_WIDTH
    if boundary < k:
        k = boundary
    before = rgb[:, boundary - k : boundary].mean(axis=1)
    after = rgb[:, boundary : boundary + _STEP_WIDTH].mean(axis=1)
    return float(np.median(np.abs(after - before).sum(axis=-1)))


def _variation(columns: np.ndarray) -> np.ndarray:
    """How much each column varies along its length: the median absolute deviation from its
    median, summed over RGB."""
    median = np.median(columns, axis=0)
    return np.median(np.abs(columns - median), axis=0).sum(axis=-1)


def _flat_run(variation: np.ndarray, typical: float, limit: int) -> int:
    """How many columns from the start are flat along their length; 0 when the run reaches
    `limit` (a flat area that wide is the painting's own: a sky, a dark background)."""
    threshold = min(_MAX_FLAT, _FLAT_FACTOR * typical)
    run = 0
    while run < limit and variation[run] < threshold:
        run += 1
    return 0 if run == limit else run


def _left_border(rgb: np.ndarray) -> int:
    """Columns to cut on the left of HxWx3 float `rgb` (the other sides are this one turned)."""
    width = rgb.shape[1]
    frame_limit, margin_limit = int(width * MAX_FRAME), int(width * MAX_MARGIN)
    if frame_limit < 1:
        return 0
    steps = _straight_edges(rgb[:, : frame_limit + _STEP_WIDTH])
    variation = _variation(rgb)
    inner = slice(margin_limit, width - margin_limit)
    typical_step = float(np.nanmedian(_straight_edges(rgb[:, inner])))
    typical_variation = max(_MIN_VARIATION, float(np.median(variation[inner])))
    threshold = max(_MIN_EDGE, _EDGE_FACTOR * typical_step)
    frame_edges = [
        boundary + 1
        for boundary, step in enumerate(steps[:frame_limit])
        if step > threshold
        and np.median(variation[: boundary + 1]) < _FRAME_VARIATION * typical_variation
    ]
    flat = _flat_run(variation, typical_variation, margin_limit)
    if flat and not _step(rgb, flat) > max(_MIN_EDGE, typical_step):
        flat = 0  # flat up to a line no different from it: the painting's own ground
    cut = max([flat, *frame_edges])
    return 0 if cut == 0 else min(margin_limit, cut + _MARGIN)


def find_border(image: Image.Image) -> Border:
    """The frame, border or margin along each side of an RGB painting (none: all zeros)."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    if min(rgb.shape[:2]) < 16:
        return Border()
    return Border(
        left=_left_border(rgb),
        top=_left_border(rgb.transpose(1, 0, 2)),
        right=_left_border(rgb[:, ::-1]),
        bottom=_left_border(rgb.transpose(1, 0, 2)[:, ::-1]),
    )


def trim_border(image: Image.Image) -> tuple[Image.Image, Border]:
    """The painting without its border, and the border that was cut."""
    border = find_border(image)
    if not border:
        return image, border
    width, height = image.size
    box = (border.left, border.top, width - border.right, height - border.bottom)
    return image.crop(box), border
