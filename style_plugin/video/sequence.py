"""Stylizing frames as one sequence: the previous output, carried along the motion, is blended
with each new stylized frame where the motion is reliable, so strokes hold still on things
that move together instead of flickering; fresh strokes where it is not, and after a cut.

`TemporalBlend` keeps that state over any frames; `stylize_frames` runs a painter (the
style model) and the blend over a frame iterator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from style_plugin.runtime.pixels import from_float, to_float
from style_plugin.video.defaults import DEFAULT_HOLD, check_hold
from style_plugin.video.libraries import opencv
from style_plugin.video.motion import MotionEstimator, is_cut, thumbnail, warp

__all__ = ["MIN_RELIABLE_SHARE", "TemporalBlend", "stylize_frames"]

#: Below this share of reliable pixels, nothing is carried over: the frame starts afresh.
MIN_RELIABLE_SHARE = 0.15
#: Half the side of the square over which stroke contrast is measured (px).
CONTRAST_RADIUS = 3
#: The most a blended frame's strokes are strengthened to match the fresh frame's.
MOST_CONTRAST_GAIN = 2.0


class TemporalBlend:
    """The previous output carried into each new frame along the optical flow between the
    inputs: `output = stylized + hold * reliable * (carried - stylized)`.

    `hold` (0..1) is how much of the carried output stays where the motion is reliable; 0 is
    frame by frame. A scene cut, a change of size or too little reliable motion starts
    afresh; `cuts` counts the scene cuts found.
    """

    def __init__(self, hold: float = DEFAULT_HOLD) -> None:
        self.hold = check_hold(hold)
        self.cuts = 0
        self._motion = MotionEstimator()
        self._previous: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        """Forget the previous frame: the next one starts afresh."""
        self._previous = None

    def blend(self, frame: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """The output for input `frame` whose own stylized version is `stylized` (both HxWx3,
        of one size; uint8, uint16 or float in [0, 1]), in `stylized`'s dtype."""
        grey = self._motion.flow_frame(from_float(to_float(frame), np.uint8))
        thumb = thumbnail(grey)
        fresh = to_float(stylized)
        output = fresh
        if self._previous is not None and self.hold > 0:
            previous_grey, previous_thumb, previous_output = self._previous
            if previous_output.shape != fresh.shape:
                pass  # a new size: nothing to carry
            elif is_cut(previous_thumb, thumb):
                self.cuts += 1
            else:
                output = self._carried(previous_grey, grey, previous_output, fresh)
        self._previous = (grey, thumb, output)
        return from_float(output, stylized.dtype)

    def _carried(
        self, previous_grey: np.ndarray, grey: np.ndarray, previous: np.ndarray, fresh: np.ndarray
    ) -> np.ndarray:
        """`fresh` with the previous output carried in where the motion is reliable."""
        height, width = fresh.shape[:2]
        motion = self._motion.between(previous_grey, grey, (width, height))
        if float(motion.reliable.mean()) < MIN_RELIABLE_SHARE:
            return fresh
        weight = (self.hold * motion.reliable)[..., None]
        return with_contrast_of(fresh + weight * (warp(previous, motion.flow) - fresh), fresh)


def with_contrast_of(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """`image` (HxWx3 float in [0, 1]) with its strokes as strong as `reference`'s: the
    detail around a local mean scaled up, never down, to the reference's local contrast.

    Blending two frames' strokes that do not line up averages them out, and each carried
    frame is resampled once more: without this, held strokes fade and blur frame by frame."""
    cv2 = opencv()
    size = (2 * CONTRAST_RADIUS + 1,) * 2

    def spread(picture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = cv2.blur(picture, size)
        detail = picture - mean
        return mean, np.sqrt(cv2.blur(detail * detail, size).sum(axis=-1, keepdims=True))

    mean, detail_spread = spread(image)
    _, wanted = spread(reference)
    gain = np.clip(wanted / np.maximum(detail_spread, 1e-4), 1.0, MOST_CONTRAST_GAIN)
    return np.clip(mean + (image - mean) * gain, 0.0, 1.0)


def stylize_frames(
    frames: Iterable[np.ndarray],
    paint: Callable[[np.ndarray], np.ndarray],
    hold: float | None = DEFAULT_HOLD,
) -> Iterator[np.ndarray]:
    """Each frame painted (`paint`: HxWx3 -> HxWx3 of one size, e.g. a bound
    `Stylizer.stylize_array`) and, unless `hold` is None, blended as one sequence."""
    blend = TemporalBlend(hold) if hold is not None else None
    for frame in frames:
        stylized = paint(frame)
        yield stylized if blend is None else blend.blend(frame, stylized)
