"""A paint layer as Stylize reads it inside Krita: the checks that it can be filtered, the
block to filter (its content within the canvas, or the whole canvas for an animated layer's
keyframes, cut to the selection) with its pixels, and the result layer's name. This module
is imported inside Krita's Python only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from krita import Document, Node

from style_plugin.errors import StylePluginError
from style_plugin.hooks.filters import Filter
from style_plugin.hooks.hosts.krita.pixels import LayerFormat, layer_format

__all__ = ["LayerError", "LayerJob", "read_layer", "result_name"]


class LayerError(StylePluginError):
    """The active document or layer cannot be filtered; the message says why and what to do."""


@dataclass(frozen=True)
class LayerJob:
    """What the filter needs from a layer, read on Krita's GUI thread.

    `x`, `y`, `width`, `height`: the block of the layer to filter (its content within the
    canvas, cut to the selection's bounding box when there is a selection); `fmt`: the
    layer's pixel format; `pixels`: the block's bytes in it; `selection`: one byte a pixel
    (0..255) over the same block, or None without a selection.
    """

    x: int
    y: int
    width: int
    height: int
    fmt: LayerFormat
    pixels: bytes
    selection: bytes | None


Rect = tuple[int, int, int, int]


def _intersect(a: Rect, b: Rect) -> Rect:
    """The overlap of two (x, y, width, height) rectangles (width or height <= 0: none)."""
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return left, top, right - left, bottom - top


def read_layer(document: Document, node: Node | None, whole_canvas: bool = False) -> LayerJob:
    """The block of `node` to filter and its pixels; LayerError when it cannot be filtered.

    The block is the layer's content within the canvas, or with `whole_canvas` the canvas
    whatever the current frame holds (one block for every keyframe of an animated layer);
    either is cut to the selection's bounding box when there is a selection."""
    if node is None or node.type() != "paintlayer":
        raise LayerError("Select a paint layer: Stylize works on a paint layer's pixels.")
    if node.locked():
        raise LayerError(f"The layer {node.name()!r} is locked; unlock it first.")
    try:
        fmt = layer_format(node.colorModel(), node.colorDepth(), node.colorProfile())
    except ValueError as exc:
        raise LayerError(f"Cannot stylize {node.name()!r}: {exc}") from None
    document.waitForDone()
    canvas = (0, 0, document.width(), document.height())
    bounds = node.bounds()
    block = (
        canvas
        if whole_canvas
        else _intersect((bounds.x(), bounds.y(), bounds.width(), bounds.height()), canvas)
    )
    selection = document.selection()
    if selection is not None:
        block = _intersect(
            block, (selection.x(), selection.y(), selection.width(), selection.height())
        )
    x, y, width, height = block
    if width <= 0 or height <= 0:
        where = "inside the selection" if selection is not None else "on the canvas"
        raise LayerError(f"The layer {node.name()!r} has no pixels {where}.")
    return LayerJob(
        x,
        y,
        width,
        height,
        fmt,
        bytes(node.pixelData(x, y, width, height)),
        None if selection is None else bytes(selection.pixelData(x, y, width, height)),
    )


def result_name(filter: Filter, params: dict[str, Any], layer_name: str) -> str:
    """'Background (Stylize: Starry Night)': the layer, the filter and its chosen choices."""
    labels = [
        choice.label
        for param in filter.params()
        if param.type == "choice"
        for choice in param.choices
        if choice.value == params.get(param.name)
    ]
    return f"{layer_name} ({filter.label}{': ' if labels else ''}{', '.join(labels)})"
