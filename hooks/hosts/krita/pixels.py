"""Krita's pixel bytes <-> numpy arrays, and a filter applied to a layer's pixels.

`Node.pixelData(x, y, w, h)` returns a layer's pixels row by row in the layer's own colour
space. The plug-in takes RGB/Alpha and Gray/Alpha layers of 8- or 16-bit integer or 16- or
32-bit float channels (`LayerFormat`):

- integer RGB/Alpha channels come as B, G, R, A (16-bit ones as native-endian words); float
  ones as R, G, B, A; Gray/Alpha as gray, alpha;
- float layers are in linear light with Krita's default profiles (names with `g10`,
  `linear` or `scRGB`) and are encoded to sRGB for the style model, which takes sRGB-like
  values, and back; other float profiles are taken as sRGB-encoded already;
- the filter sees 16-bit values for every layer deeper than 8 bits, so converting in and out
  adds no banding of its own; the alpha channel is kept exactly in the layer's own type;
- a gray layer is filtered as RGB and comes back as its luma.

Other colour models (CMYK, Lab, XYZ, YCbCr) are refused with the conversion to make
(`unsupported_reason`). Nothing here imports Krita or Qt, so the tests run it in any Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from style_plugin.hooks.filters import Cancel, Filter, Progress

__all__ = [
    "DEPTHS",
    "MODELS",
    "Blend",
    "LayerFormat",
    "apply_filter_to_pixels",
    "filter_layer_bytes",
    "layer_format",
    "linear_to_srgb",
    "mask_from_bytes",
    "srgb_to_linear",
    "unsupported_reason",
]

#: blend(input colours, filtered colours) -> the colours a frame of a sequence keeps (HxWx3,
#: in the filtered colours' type).
Blend = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: Krita colour depth id -> the numpy type of one channel.
DEPTHS = {
    "U8": np.dtype(np.uint8),
    "U16": np.dtype(np.uint16),
    "F16": np.dtype(np.float16),
    "F32": np.dtype(np.float32),
}
#: Krita colour model id -> channels per pixel.
MODELS = {"RGBA": 4, "GRAYA": 2}
_LINEAR_PROFILE_MARKS = ("g10", "linear", "scrgb")
_LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 / sRGB primaries

_CONVERT_HINT = (
    "Image > Convert Image Color Space... or Layer > Convert > Convert Layer Color Space... "
    "(RGB/Alpha or Gray/Alpha)"
)


def unsupported_reason(color_model: str, color_depth: str) -> str | None:
    """Why a layer in this colour space cannot be stylized, or None when it can."""
    if color_model not in MODELS:
        return (
            f"the layer's colour model is {color_model}; Stylize works on RGB/Alpha and "
            f"Gray/Alpha layers. Convert it first: {_CONVERT_HINT}"
        )
    if color_depth not in DEPTHS:
        return (
            f"the layer has {color_depth} channels; Stylize works on 8- and 16-bit integer "
            f"and 16- and 32-bit float channels. Convert it first: {_CONVERT_HINT}"
        )
    return None


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB-encoded values (0..1) -> linear light."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    """Linear-light values (0..1) -> sRGB-encoded."""
    values = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    return np.where(values <= 0.0031308, values * 12.92, 1.055 * values ** (1 / 2.4) - 0.055)


@dataclass(frozen=True)
class LayerFormat:
    """A layer's pixel layout: Krita's colour model and depth ids, and whether float channels
    are in linear light (from the profile's name)."""

    model: str
    depth: str
    linear: bool = False

    @property
    def dtype(self) -> np.dtype:
        return DEPTHS[self.depth]

    @property
    def is_float(self) -> bool:
        return self.dtype.kind == "f"

    @property
    def working_dtype(self) -> np.dtype:
        """What the filter gets: 8 bits for 8-bit layers, 16 bits for every deeper one."""
        return np.dtype(np.uint8) if self.depth == "U8" else np.dtype(np.uint16)

    def _channels(self, data: bytes, width: int, height: int) -> np.ndarray:
        channels = MODELS[self.model]
        expected = width * height * channels * self.dtype.itemsize
        if len(data) != expected:
            raise ValueError(
                f"expected {expected} bytes for {width}x{height} {self.model} {self.depth}, "
                f"got {len(data)}"
            )
        return np.frombuffer(data, dtype=self.dtype).reshape(height, width, channels)

    def _to_working(self, colour: np.ndarray) -> np.ndarray:
        """Colour channels in the layer's type -> the filter's integers (sRGB-encoded)."""
        if not self.is_float:
            return colour.copy()
        values = np.nan_to_num(colour.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        values = linear_to_srgb(values) if self.linear else np.clip(values, 0.0, 1.0)
        return np.round(values * 65535).astype(np.uint16)

    def _from_working(self, colour: np.ndarray) -> np.ndarray:
        """The filter's integers -> colour channels in the layer's type."""
        if not self.is_float:
            return colour.astype(self.dtype)
        values = colour.astype(np.float64) / np.iinfo(colour.dtype).max
        return (srgb_to_linear(values) if self.linear else values).astype(self.dtype)

    def decode(self, data: bytes, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """A block's bytes -> (HxWx4 R, G, B, A for the filter, the alpha channel as stored).
        The filter's alpha is the stored one in its integers (float alpha clipped to 0..1)."""
        pixels = self._channels(data, width, height)
        if self.model == "GRAYA":
            colour = np.repeat(pixels[..., :1], 3, axis=2)
        elif self.is_float:
            colour = pixels[..., :3]
        else:
            colour = pixels[..., [2, 1, 0]]
        alpha = pixels[..., -1].copy()
        working = self._to_working(colour)
        top = np.iinfo(working.dtype).max
        if self.is_float:
            filter_alpha = np.round(np.clip(np.nan_to_num(alpha.astype(np.float64)), 0, 1) * top)
        else:
            filter_alpha = alpha
        return np.dstack([working, filter_alpha.astype(working.dtype)]), alpha

    def encode(self, rgb: np.ndarray, alpha: np.ndarray) -> bytes:
        """HxWx3 colours in the filter's integers and the alpha channel as stored -> bytes."""
        if self.model == "GRAYA":
            top = np.iinfo(rgb.dtype).max
            luma = np.round(rgb.astype(np.float64) @ _LUMA).clip(0, top)
            colour = self._from_working(luma.astype(rgb.dtype)[..., None])
        elif self.is_float:
            colour = self._from_working(rgb)
        else:
            colour = self._from_working(rgb)[..., [2, 1, 0]]
        return np.ascontiguousarray(np.dstack([colour, alpha.astype(self.dtype)])).tobytes()


def layer_format(color_model: str, color_depth: str, profile: str = "") -> LayerFormat:
    """The format of a layer in this colour space (ValueError with the reason when refused)."""
    reason = unsupported_reason(color_model, color_depth)
    if reason:
        raise ValueError(reason)
    linear = DEPTHS[color_depth].kind == "f" and any(
        mark in profile.lower() for mark in _LINEAR_PROFILE_MARKS
    )
    return LayerFormat(color_model, color_depth, linear)


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
    return np.dstack([rgb, _masked(rgba[..., 3], selection_mask)])


def _masked(alpha: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """`alpha` (any channel type) times the selection mask (HxW, 0..255), rounded for
    integers."""
    if mask is None:
        return alpha
    if mask.shape != alpha.shape:
        raise ValueError(f"selection mask {mask.shape} != image {alpha.shape}")
    if alpha.dtype.kind == "f":
        return (alpha.astype(np.float64) * (mask / 255.0)).astype(alpha.dtype)
    product = alpha.astype(np.uint32) * mask.astype(np.uint32)
    return ((product + 127) // 255).astype(alpha.dtype)


def filter_layer_bytes(
    filter: Filter,
    data: bytes,
    width: int,
    height: int,
    fmt: LayerFormat,
    params: Mapping[str, Any] | None = None,
    selection: bytes | None = None,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    blend: Blend | None = None,
) -> bytes:
    """The result layer's bytes for a block of a layer in format `fmt` (`selection`: one byte
    a pixel): colours from `apply_filter_to_pixels`, or `blend(input colours, those colours)`
    when given (a sequence's frame), alpha the layer's own, exactly, times the selection."""
    working, alpha = fmt.decode(data, width, height)
    mask = None if selection is None else mask_from_bytes(selection, width, height)
    result = apply_filter_to_pixels(filter, working, params, progress=progress, cancel=cancel)
    colours = result[..., :3] if blend is None else blend(working[..., :3], result[..., :3])
    return fmt.encode(colours, _masked(alpha, mask))
