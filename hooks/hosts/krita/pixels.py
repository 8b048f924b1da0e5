"""Krita's pixel bytes <-> numpy arrays, and a filter applied to a layer's pixels.

`Node.pixelData(x, y, w, h)` returns a layer's pixels row by row in the layer's own colour
space. For RGB/Alpha layers with 8- or 16-bit integer channels Krita orders the channels
B, G, R, A (16-bit channels as native-endian words); that is what these functions read and
write. Float layers (F16, F32: linear light, R, G, B, A order) and other colour models
(greyscale, CMYK, Lab, ...) are refused with the conversion to make (`unsupported_reason`):
the style models take sRGB-like values, and guessing a conversion would change the picture.

Nothing here imports Krita or Qt, so the tests run it in any Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image

from hooks.filters import Cancel, Filter, Progress

__all__ = [
    "DEPTHS",
    "apply_filter_to_pixels",
    "bgra_to_rgba",
    "filter_layer_bytes",
    "mask_from_bytes",
    "rgba_to_bgra",
    "unsupported_reason",
]

#: Krita colour depth id -> the numpy type of one channel, for the depths the plug-in handles.
DEPTHS = {"U8": np.dtype(np.uint8), "U16": np.dtype(np.uint16)}

_CONVERT_HINT = (
    "Image > Convert Image Color Space... or Layer > Convert > Convert Layer Color Space... "
    "(RGB/Alpha, 8-bit or 16-bit integer)"
)


def unsupported_reason(color_model: str, color_depth: str) -> str | None:
    """Why a layer in this colour space cannot be stylized, or None when it can."""
    if color_model != "RGBA":
        return (
            f"the layer's colour model is {color_model}; Stylize works on RGB/Alpha layers. "
            f"Convert it first: {_CONVERT_HINT}"
        )
    if color_depth not in DEPTHS:
        return (
            f"the layer has {color_depth} channels; Stylize works on 8-bit and 16-bit integer "
            f"layers. Convert it first: {_CONVERT_HINT}"
        )
    return None


def bgra_to_rgba(data: bytes, width: int, height: int, depth: str = "U8") -> np.ndarray:
    """Krita's B, G, R, A bytes of a `width` x `height` block -> an HxWx4 R, G, B, A array."""
    dtype = DEPTHS[depth]
    expected = width * height * 4 * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"expected {expected} bytes for {width}x{height} {depth}, got {len(data)}")
    bgra = np.frombuffer(data, dtype=dtype).reshape(height, width, 4)
    return bgra[..., [2, 1, 0, 3]].copy()


def rgba_to_bgra(rgba: np.ndarray) -> bytes:
    """An HxWx4 R, G, B, A array (uint8 or uint16) -> Krita's B, G, R, A bytes."""
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype not in DEPTHS.values():
        raise ValueError(f"expected HxWx4 uint8 or uint16 values, got {rgba.shape} {rgba.dtype}")
    return np.ascontiguousarray(rgba[..., [2, 1, 0, 3]]).tobytes()


def mask_from_bytes(data: bytes, width: int, height: int) -> np.ndarray:
    """A Krita selection's bytes (one per pixel, 0 = not selected, 255 = selected) -> HxW."""
    if len(data) != width * height:
        raise ValueError(f"expected {width * height} selection bytes, got {len(data)}")
    return np.frombuffer(data, dtype=np.uint8).reshape(height, width).copy()


def apply_filter_to_pixels(
    filter: Filter,
    rgba: np.ndarray,
    params: Mapping[str, Any] | None = None,
    selection_mask: np.ndarray | None = None,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> np.ndarray:
    """The pixels of the layer that holds `filter`'s result for `rgba` (HxWx4, uint8/uint16).

    Colours are the filter's, brought back to the input's size (a filter may work on a
    scaled-down copy, e.g. Stylize's `max_side`) and bit depth. Alpha is the input's alpha,
    exactly, multiplied by `selection_mask` (HxW, 0..255) when there is one: outside the
    selection the result is transparent, and partly selected pixels are partly transparent.
    """
    height, width = rgba.shape[:2]
    result = filter.apply(rgba, params, progress=progress, cancel=cancel).convert("RGB")
    if result.size != (width, height):
        result = result.resize((width, height), Image.Resampling.LANCZOS)
    rgb = np.asarray(result)
    if rgba.dtype == np.uint16:
        rgb = rgb.astype(np.uint16) * np.uint16(257)  # 8-bit levels onto the 16-bit scale
    alpha = rgba[..., 3]
    if selection_mask is not None:
        if selection_mask.shape != (height, width):
            raise ValueError(f"selection mask {selection_mask.shape} != image {(height, width)}")
        product = alpha.astype(np.uint32) * selection_mask.astype(np.uint32)
        alpha = ((product + 127) // 255).astype(rgba.dtype)
    return np.dstack([rgb, alpha])


def filter_layer_bytes(
    filter: Filter,
    data: bytes,
    width: int,
    height: int,
    depth: str,
    params: Mapping[str, Any] | None = None,
    selection: bytes | None = None,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> bytes:
    """`apply_filter_to_pixels` from Krita's bytes to Krita's bytes (`selection`: one byte a pixel)."""
    rgba = bgra_to_rgba(data, width, height, depth)
    mask = None if selection is None else mask_from_bytes(selection, width, height)
    result = apply_filter_to_pixels(filter, rgba, params, mask, progress=progress, cancel=cancel)
    return rgba_to_bgra(result)
