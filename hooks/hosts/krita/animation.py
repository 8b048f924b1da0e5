"""Every keyframe of an animated paint layer through Stylize, on Krita's side: the keyframes
read in time order (`Node.pixelDataAtTime`), stylized as one sequence (`KeyframeSequence`)
and written into a copy of the layer, which is added right above it as ONE undoable step.

Why a copy, made in a scratch document: Krita's scripting API writes pixels only into the
frame at the image's current time and without an undo record, and switching the time
(`Document.setCurrentTime`) is itself recorded in the image's undo history ("Switch current
time"; checked in Krita 5.1.5). So the layer is duplicated, keyframes and all, into a scratch document that is never
shown; its time goes from keyframe to keyframe there while each result is written; then a
copy of it is added above the layer: Edit > Undo ("Undo Add Layer") removes it whole, and the
image's time and history are otherwise untouched. Cancel closes the scratch document before
anything reaches the image. This module is imported inside Krita's Python only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from krita import Document, Krita, Node

from style_plugin.hooks.filters import Filter
from style_plugin.hooks.hosts.krita.keyframes import KeyframeSequence
from style_plugin.hooks.hosts.krita.layers import LayerError, read_layer, result_name

__all__ = ["FRAMES_SEARCHED", "ScratchCopy", "keyframe_times", "stylize_all_frames"]

#: Frames searched for keyframes, from frame 0 (Krita's scripting API lists no keyframes, so
#: each frame is asked; past any animation's end: over an hour at 24 frames a second).
FRAMES_SEARCHED = 100_000

#: work(progress, cancel) -> a keyframe's result bytes.
FrameWork = Callable[[Callable[[int, int], None], Callable[[], bool]], bytes]
#: run_frame(work, index, count): run the work of keyframe `index` (from 0) of `count`, e.g.
#: behind a progress window; it raises `Cancelled` to stop.
FrameRunner = Callable[[FrameWork, int, int], bytes]


def keyframe_times(node: Node | None) -> list[int]:
    """The times of a paint layer's keyframes, in order ([] when it is not animated)."""
    if node is None or node.type() != "paintlayer" or not node.animated():
        return []
    return [time for time in range(FRAMES_SEARCHED) if node.hasKeyframeAtTime(time)]


class ScratchCopy:
    """A copy of an animated layer, with its keyframes, in a scratch document of its own, made
    a plain layer (no masks, normal blending, full opacity, visible, no locks) as a new one
    is; `write` replaces a keyframe's pixels, `add_above` puts a copy into the image."""

    def __init__(self, document: Document, node: Node) -> None:
        self.document = Krita.instance().createDocument(
            document.width(),
            document.height(),
            "Stylize frames",
            document.colorModel(),
            document.colorDepth(),
            document.colorProfile(),
            document.resolution(),
        )
        copy = node.duplicate()
        root = self.document.rootNode()
        root.addChildNode(copy, None)
        self.document.waitForDone()
        #: The copy as the scratch document sees it (its changes are recorded there only).
        self.layer = _child_like(root, copy)
        for mask in self.layer.childNodes():
            self.layer.removeChildNode(mask)
        if self.layer.blendingMode() != "normal":
            self.layer.setBlendingMode("normal")
        self.layer.setOpacity(255)
        self.layer.setVisible(True)
        self.layer.setAlphaLocked(False)
        self.layer.setInheritAlpha(False)
        self.layer.setColorLabel(0)

    def write(self, time: int, pixels: bytes, x: int, y: int, width: int, height: int) -> None:
        """Make the keyframe at `time` hold `pixels` (the block at x, y) and nothing else."""
        self.document.setCurrentTime(time)
        self.document.waitForDone()
        bounds = self.layer.bounds()
        if bounds.width() > 0 and bounds.height() > 0:
            pixel_size = len(pixels) // (width * height)
            blank = bytes(bounds.width() * bounds.height() * pixel_size)
            self.layer.setPixelData(blank, bounds.x(), bounds.y(), bounds.width(), bounds.height())
        self.layer.setPixelData(pixels, x, y, width, height)

    def add_above(self, document: Document, node: Node, name: str) -> Node:
        """A copy of the layer named `name`, added right above `node` as one "Add Layer"."""
        layer = self.layer.duplicate()
        layer.setName(name)
        node.parentNode().addChildNode(layer, node)
        document.waitForDone()
        document.refreshProjection()
        return _child_like(node.parentNode(), layer)

    def close(self) -> None:
        """Close the scratch document, unsaved."""
        self.document.setModified(False)
        self.document.close()


def _child_like(parent: Node, node: Node) -> Node:
    """`parent`'s child that is `node`, as a handle bound to `parent`'s document."""
    return next(child for child in parent.childNodes() if child.uniqueId() == node.uniqueId())


def stylize_all_frames(
    document: Document,
    node: Node,
    filter: Filter,
    params: dict[str, Any],
    hold: float,
    run_frame: FrameRunner,
    times: list[int] | None = None,
) -> Node:
    """Every keyframe of the animated `node` (those at `times`, default all), in time order,
    stylized as one sequence (strokes held from keyframe to keyframe by `hold`) over the
    canvas (within the selection, if any), into a new animated layer above it, added as one
    undoable step and returned. `run_frame` runs each keyframe's work; when it raises
    (Cancel), the image is left as it was."""
    times = keyframe_times(node) if times is None else times
    job = read_layer(document, node, whole_canvas=True)
    if not times:
        raise LayerError(f"The layer {node.name()!r} has no keyframes: it is not animated.")
    params = filter.resolve(params)
    sequence = KeyframeSequence(filter, job.fmt, job.width, job.height, params, hold, job.selection)
    scratch = ScratchCopy(document, node)
    try:
        for index, time in enumerate(times):
            data = bytes(node.pixelDataAtTime(job.x, job.y, job.width, job.height, time))
            pixels = run_frame(partial(sequence.stylize, data), index, len(times))
            scratch.write(time, pixels, job.x, job.y, job.width, job.height)
        return scratch.add_above(document, node, result_name(filter, params, node.name()))
    finally:
        scratch.close()
