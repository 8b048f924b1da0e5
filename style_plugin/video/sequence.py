"""Stylizing frames as one sequence: strokes already painted are carried along the motion
and held where the motion is reliable, so they stay put on things that move together instead
of flickering; fresh strokes where it is not, and after a cut.

What is carried is an *anchor*, an earlier output, resampled once along the motion
accumulated since it was taken. Carrying the previous output from frame to frame instead
would resample strokes again every frame: they blur (bilinear) or ring (bicubic), and
blending a few frames' strokes that do not line up leaves ghosts. A new anchor (the output
itself, so nothing jumps) is taken when too little of the old one can still be trusted.

`TemporalBlend` keeps that state over any frames; `stylize_frames` runs a painter (the
style model) and the blend over a frame iterator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from style_plugin.runtime.pixels import from_float, to_float
from style_plugin.video.defaults import DEFAULT_HOLD, check_hold
from style_plugin.video.libraries import opencv
from style_plugin.video.motion import MotionEstimator, is_cut, thumbnail, warp

__all__ = ["MIN_RELIABLE_SHARE", "RENEW_SHARE", "TemporalBlend", "stylize_frames"]

#: Below this share of reliable pixels between two frames, nothing is carried: a fresh start.
MIN_RELIABLE_SHARE = 0.15
#: Below this share of the anchor still trusted in the new frame, the output is the new anchor.
RENEW_SHARE = 0.85


@dataclass
class _Held:
    """What is carried: the grey frame and thumbnail of the last input, the anchor output
    (HxWx3 float), where each pixel of the last frame lies in the anchor (HxWx2, x and y),
    and how far that can be trusted (HxW in [0, 1])."""

    grey: np.ndarray
    thumb: np.ndarray
    anchor: np.ndarray
    positions: np.ndarray
    trusted: np.ndarray

    @classmethod
    def anchored(cls, grey: np.ndarray, thumb: np.ndarray, output: np.ndarray) -> _Held:
        height, width = output.shape[:2]
        ys, xs = np.indices((height, width), dtype=np.float32)
        trusted = np.ones((height, width), dtype=np.float32)
        return cls(grey, thumb, output, np.dstack([xs, ys]), trusted)


class TemporalBlend:
    """Strokes held along the optical flow between the inputs:
    `output = stylized + hold * trusted * (carried - stylized)`, where `carried` is the
    anchor brought to this frame and `trusted` is the product of the motion's reliability
    over the frames since the anchor.

    `hold` (0..1) is how much of the carried strokes stays where the motion is reliable; 0 is
    frame by frame. A scene cut, a change of size or too little reliable motion starts
    afresh; `cuts` counts the scene cuts found.
    """

    def __init__(self, hold: float = DEFAULT_HOLD) -> None:
        self.hold = check_hold(hold)
        self.cuts = 0
        self._motion = MotionEstimator()
        self._held: _Held | None = None

    def reset(self) -> None:
        """Forget the previous frames: the next one starts afresh."""
        self._held = None

    def blend(self, frame: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """The output for input `frame` whose own stylized version is `stylized` (both HxWx3,
        of one size; uint8, uint16 or float in [0, 1]), in `stylized`'s dtype."""
        return self.blend_flow_frame(self._motion.flow_frame(frame), stylized)

    def blend_flow_frame(self, grey: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """`blend`, given the input frame's grey frame for the flow
        (`MotionEstimator.flow_frame`) made elsewhere, as the Ray engine's nodes do."""
        thumb = thumbnail(grey)
        output = to_float(stylized)
        held = self._held
        if held is None or self.hold == 0 or held.anchor.shape != output.shape:
            held = None
        elif is_cut(held.thumb, thumb):
            self.cuts += 1
            held = None
        else:
            held = self._follow(held, grey, thumb)
        if held is not None:
            weight = (self.hold * held.trusted)[..., None]
            output = output + weight * (self._carried(held) - output)
        if held is None or float(held.trusted.mean()) < RENEW_SHARE:
            held = _Held.anchored(grey, thumb, output)
        self._held = held
        return from_float(output, stylized.dtype)

    def _follow(self, held: _Held, grey: np.ndarray, thumb: np.ndarray) -> _Held | None:
        """`held` moved on to the new frame, or None where too little motion is reliable."""
        height, width = held.anchor.shape[:2]
        motion = self._motion.between(held.grey, grey, (width, height))
        if float(motion.reliable.mean()) < MIN_RELIABLE_SHARE:
            return None
        positions = warp(held.positions, motion.flow)  # smooth fields: bilinear is exact enough
        trusted = motion.reliable * warp(held.trusted, motion.flow)
        return _Held(grey, thumb, held.anchor, positions, trusted)

    @staticmethod
    def _carried(held: _Held) -> np.ndarray:
        """The anchor resampled once at the positions the frame's pixels came from (bicubic)."""
        cv2 = opencv()
        xs, ys = held.positions[..., 0], held.positions[..., 1]
        carried = cv2.remap(
            held.anchor, xs, ys, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
        )
        return np.clip(carried, 0.0, 1.0)


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
