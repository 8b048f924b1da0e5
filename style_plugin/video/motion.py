"""Motion between consecutive frames: optical flow with OpenCV's DIS, where that flow can be
trusted, warping along it, and scene cuts.

The flow runs on grey frames at most `FLOW_SIDE` pixels long (camera noise averages out and
it stays fast at 1080p), both ways: a pixel is trusted where the backward flow and the
forward flow at the place it came from cancel out (the forward-backward check of Ruder et al.
2016, which marks occlusions and disocclusions), where it came from inside the frame, and
where the previous frame carried there looks like the new one (a change of light, a flow
that went wrong). A scene cut is a large mean difference of small grey thumbnails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from style_plugin.runtime.pixels import from_float, to_float
from style_plugin.video.libraries import opencv

__all__ = [
    "CUT_DIFFERENCE",
    "FLOW_SIDE",
    "FrameMotion",
    "MotionEstimator",
    "consistent",
    "is_cut",
    "thumbnail",
    "warp",
]

#: The longest side, in pixels, the flow is computed at; larger frames are scaled down first.
FLOW_SIDE = 640
#: Size (width, height) of the grey thumbnails compared to find scene cuts.
THUMBNAIL_SIZE = (64, 36)
#: Mean absolute difference of two thumbnails (values 0..1) above which frames are two scenes.
CUT_DIFFERENCE = 0.12
#: Ruder et al.'s forward-backward tolerance: |b + f|^2 <= RELATIVE (|b|^2 + |f|^2) + ABSOLUTE.
RELATIVE_TOLERANCE = 0.01
ABSOLUTE_TOLERANCE = 0.5
#: Grey difference (0..255, after a light blur) between the carried previous frame and the new
#: one that is still trusted fully, and from which on it is not trusted at all.
MATCHING_GREY = (10.0, 30.0)
#: Blur (sigma, pixels at flow size) softening the edges of the trusted area.
SOFTENING = 1.0


@dataclass(frozen=True)
class FrameMotion:
    """How a new frame relates to the previous one, at the new frame's full size.

    `flow` is HxWx2: for each pixel of the new frame, the offset (x, y) to where it was in the
    previous one; `reliable` is HxW in [0, 1]: how far that can be trusted.
    """

    flow: np.ndarray
    reliable: np.ndarray


def thumbnail(grey: np.ndarray) -> np.ndarray:
    """A small grey thumbnail, values in [0, 1], for finding scene cuts."""
    cv2 = opencv()
    return cv2.resize(grey, THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def is_cut(previous: np.ndarray, current: np.ndarray) -> bool:
    """Whether two thumbnails (`thumbnail`) show different scenes."""
    return float(np.mean(np.abs(previous - current))) > CUT_DIFFERENCE


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`image` (HxW or HxWxC) carried along `flow` (HxWx2, offsets into `image` for each
    output pixel), bilinear, edges repeated."""
    cv2 = opencv()
    height, width = flow.shape[:2]
    ys, xs = np.indices((height, width), dtype=np.float32)
    return cv2.remap(
        image,
        xs + flow[..., 0],
        ys + flow[..., 1],
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def consistent(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """HxW booleans: where `backward` (new -> previous) and `forward` (previous -> new, read
    where each pixel came from) cancel out, and the pixel came from inside the frame."""
    height, width = backward.shape[:2]
    forward_there = warp(forward, backward)
    mismatch = np.sum((backward + forward_there) ** 2, axis=-1)
    allowed = (
        RELATIVE_TOLERANCE * (np.sum(backward**2, axis=-1) + np.sum(forward_there**2, axis=-1))
        + ABSOLUTE_TOLERANCE
    )
    ys, xs = np.indices((height, width), dtype=np.float32)
    source_x, source_y = xs + backward[..., 0], ys + backward[..., 1]
    inside = (source_x >= 0) & (source_x <= width - 1) & (source_y >= 0) & (source_y <= height - 1)
    return (mismatch <= allowed) & inside


class MotionEstimator:
    """Optical flow between grey frames (`flow_frame`) with OpenCV's DIS, medium preset."""

    def __init__(self) -> None:
        cv2 = opencv()
        self._cv2 = cv2
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def flow_frame(self, rgb: np.ndarray) -> np.ndarray:
        """The grey uint8 frame the flow runs on: `rgb` (HxWx3; uint8, uint16 or float in
        [0, 1]) at most `FLOW_SIDE` long."""
        cv2 = self._cv2
        rgb8 = from_float(to_float(rgb), np.uint8)
        grey = cv2.cvtColor(np.ascontiguousarray(rgb8), cv2.COLOR_RGB2GRAY)
        height, width = grey.shape
        longest = max(height, width)
        if longest <= FLOW_SIDE:
            return grey
        size = (
            max(1, round(width * FLOW_SIDE / longest)),
            max(1, round(height * FLOW_SIDE / longest)),
        )
        return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)

    def between(
        self, previous: np.ndarray, current: np.ndarray, size: tuple[int, int]
    ) -> FrameMotion:
        """The motion from `previous` to `current` (both from `flow_frame`), at `size`
        (width, height) of the full frames."""
        cv2 = self._cv2
        backward = self._dis.calc(current, previous, None)
        forward = self._dis.calc(previous, current, None)
        reliable = consistent(backward, forward).astype(np.float32)
        reliable *= self._matching(warp(previous, backward), current)
        reliable = cv2.GaussianBlur(reliable, (0, 0), SOFTENING)
        width, height = size
        flow_height, flow_width = current.shape
        if (flow_width, flow_height) != (width, height):
            backward = cv2.resize(backward, size, interpolation=cv2.INTER_LINEAR)
            backward *= np.array([width / flow_width, height / flow_height], dtype=np.float32)
            reliable = cv2.resize(reliable, size, interpolation=cv2.INTER_LINEAR)
        return FrameMotion(backward, np.clip(reliable, 0, 1))

    def _matching(self, carried: np.ndarray, current: np.ndarray) -> np.ndarray:
        """HxW in [0, 1]: how alike the previous frame carried along the flow and the new one
        are (1 within camera noise, 0 for a clear change)."""
        cv2 = self._cv2
        low, high = MATCHING_GREY
        difference = cv2.absdiff(
            cv2.GaussianBlur(carried, (5, 5), 0), cv2.GaussianBlur(current, (5, 5), 0)
        ).astype(np.float32)
        return np.clip((high - difference) / (high - low), 0, 1)
