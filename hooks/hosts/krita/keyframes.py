"""The keyframes of an animated layer stylized as one sequence, with no Krita or Qt imports.

Each keyframe, in time order, is filtered as a still layer is (`filter_layer_bytes`: the
layer's alpha kept exactly, times the selection), and the strokes already painted are
carried along the motion between keyframes and kept where it is reliable (`TemporalBlend`,
the video room's sequence code), so strokes hold still on what moves together instead of
flickering from frame to frame. OpenCV (the `video` extra) computes the motion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from style_plugin.hooks.filters import Cancel, Filter, Progress
from style_plugin.hooks.hosts.krita.pixels import LayerFormat, filter_layer_bytes
from style_plugin.video.defaults import DEFAULT_HOLD
from style_plugin.video.sequence import TemporalBlend

__all__ = ["KeyframeSequence"]


class KeyframeSequence:
    """Stylizes one block (`width` x `height`, in format `fmt`) of a layer's keyframes, one
    after another in time order: `stylize(bytes)` -> the result's bytes for the next one.

    `params` are the filter's, `hold` (0..1) how much of the strokes carried along the motion
    stays where it is reliable, `selection` one byte a pixel over the block (or None). Without
    OpenCV the constructor raises StylePluginError saying how to install it.
    """

    def __init__(
        self,
        filter: Filter,
        fmt: LayerFormat,
        width: int,
        height: int,
        params: Mapping[str, Any],
        hold: float = DEFAULT_HOLD,
        selection: bytes | None = None,
    ) -> None:
        self.filter = filter
        self.fmt = fmt
        self.width = width
        self.height = height
        self.params = filter.resolve(params)
        self.selection = selection
        self._blend = TemporalBlend(hold)

    def stylize(
        self, data: bytes, progress: Progress | None = None, cancel: Cancel | None = None
    ) -> bytes:
        """The result for the next keyframe's bytes `data` (the block, in the layer's format)."""
        return filter_layer_bytes(
            self.filter,
            data,
            self.width,
            self.height,
            self.fmt,
            self.params,
            self.selection,
            progress=progress,
            cancel=cancel,
            blend=self._blend.blend,
        )
