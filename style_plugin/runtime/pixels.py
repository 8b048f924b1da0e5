"""Pixel values between images and a style model, and back into an image.

`to_float` / `from_float` / `to_batch` convert uint8, uint16 and float values to the model's
float32 in [0, 1] and back (`float_into`: back into part of a bigger image, in place);
`blend` and `preserve_colors` finish a stylized result, in place if asked;
`fit_max_side` and `resize_rgb` resize with Lanczos at the values' own depth; `restore` turns
the model's RGB back into a PIL image of the input's kind, its alpha and metadata re-attached,
and `wide_values` gives back the 16-bit colour values that a PIL image cannot hold.

Only numpy and Pillow here: hosts that only stylize never import torch.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from style_plugin.runtime.reading import SourceImage
from style_plugin.runtime.wide_colour import attach_wide, attached_wide

__all__ = [
    "blend",
    "fit_max_side",
    "float_into",
    "from_float",
    "grey_as",
    "luma",
    "preserve_colors",
    "resize_rgb",
    "restore",
    "to_batch",
    "to_float",
    "wide_values",
]


def to_float(rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Any array of uint8 / uint16 / float values -> float32 in [0, 1] (float passes through,
    uncopied unless `out`, a float32 array of rgb's shape, is given to receive it)."""
    if rgb.dtype.kind == "u" and rgb.dtype.itemsize <= 2:
        top = np.float32(np.iinfo(rgb.dtype).max)
        return np.divide(rgb, top, out=out, dtype=np.float32)
    if rgb.dtype.kind != "f":
        raise TypeError(f"expected uint8, uint16 or float values, got {rgb.dtype}")
    if out is None:
        return rgb.astype(np.float32, copy=False)
    np.copyto(out, rgb)
    return out


def to_batch(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 values -> the model's float32 [1, 3, H, W] batch in [0, 1]."""
    return np.ascontiguousarray(to_float(rgb).transpose(2, 0, 1)[None])


def from_float(values: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """Float values in [0, 1] -> `dtype` (uint8, uint16: rounded half to even; float32), clipped."""
    scratch = np.array(values, dtype=np.result_type(values.dtype, np.float32))
    return float_into(scratch, np.empty(values.shape, dtype))


def float_into(values: np.ndarray, out: np.ndarray) -> np.ndarray:
    """`from_float` into `out` (of any layout: a slice of a bigger image), using `values`,
    float, as scratch space: they are overwritten. Returns `out`."""
    if out.dtype.kind == "f":
        np.copyto(out, np.clip(values, 0, 1, out=values), casting="same_kind")
        return out
    top = np.iinfo(out.dtype).max
    values *= top
    np.clip(np.rint(values, out=values), 0, top, out=values)
    np.copyto(out, values, casting="unsafe")
    return out


def restore(source: SourceImage, rgb_out: np.ndarray) -> Image.Image:
    """The model's HxWx3 result -> a PIL image of the source's kind, alpha and metadata re-attached.

    `rgb_out` should have `source.rgb`'s dtype (another of uint8/uint16/float is converted).
    Grey sources give L, I;16 or F (I or F in the source's range for `value_range` sources),
    the luminance by ITU-R 601 weights as Pillow's L conversion. Colour sources give RGB:
    Pillow has no 16-bit or float RGB mode, so those (and CMYK sources) come back as 8-bit RGB.
    Alpha comes back exactly for 8-bit alpha (RGBA, LA); 16-bit or float alpha, and alpha on
    16-bit or float grey, can only be held as 8-bit RGBA / LA and is rounded to 8 bits.
    Where the image holds 8 bits of 16-bit colour (16-bit RGB, or 16-bit grey with alpha),
    the 16-bit values go with it (`wide_values`), for writers that keep them.
    """
    if rgb_out.shape != source.rgb.shape:
        raise ValueError(f"expected a result of shape {source.rgb.shape}, got {rgb_out.shape}")
    if rgb_out.dtype != source.rgb.dtype:
        rgb_out = from_float(to_float(rgb_out), source.rgb.dtype)
    if source.kind == "grey":
        image = _grey_image(_luminance(rgb_out), source)
    else:
        image = Image.fromarray(_as_uint8(rgb_out))
    if source.alpha is not None:
        if image.mode not in ("L", "RGB"):
            image = grey_as(image, np.uint8)
        image.putalpha(Image.fromarray(_as_uint8(source.alpha)))
    image.info.update(source.info)
    wide = _wide(source, rgb_out)
    return image if wide is None else attach_wide(image, wide)


def _wide(source: SourceImage, rgb_out: np.ndarray) -> np.ndarray | None:
    """The 16-bit values of a result that a PIL image holds at 8 bits only: 16-bit colour
    (with its alpha at 16 bits), or 16-bit grey with alpha; None for any other result."""
    if rgb_out.dtype != np.uint16 or source.value_range is not None:
        return None
    if source.kind == "rgb":
        planes = [rgb_out]
    elif source.alpha is not None:
        planes = [_luminance(rgb_out)[..., None]]
    else:
        return None  # I;16 holds it
    if source.alpha is not None:
        planes.append(from_float(to_float(source.alpha), np.uint16)[..., None])
    return np.concatenate(planes, axis=2)


def wide_values(image: Image.Image) -> np.ndarray | None:
    """The HxWxC uint16 values `restore` attached to `image` (C: 2 grey and alpha, 3 RGB,
    4 RGBA), while its pixels are still those values at 8 bits; None otherwise."""
    return attached_wide(image, _as_uint8)


def _as_uint8(values: np.ndarray) -> np.ndarray:
    """uint8 values unchanged; uint16 / float scaled and rounded to 8 bits."""
    return values if values.dtype == np.uint8 else from_float(to_float(values), np.uint8)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 -> HxW luma with ITU-R 601 weights, in rgb's dtype (integers exactly as Pillow's L)."""
    if rgb.dtype.kind == "u":  # Pillow's L24 fixed point; fits uint32 for 16-bit values too
        r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
        return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(rgb.dtype)
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))  # float64: grey stays exact
    return (0.299 * r + 0.587 * g + 0.114 * b).astype(rgb.dtype)


def _grey_image(grey: np.ndarray, source: SourceImage) -> Image.Image:
    """HxW grey of the source's dtype -> L, I;16, or F (I for I sources scaled from their range)."""
    if source.value_range is None:
        return Image.fromarray(grey)  # uint8 -> L, uint16 -> I;16, float32 -> F
    low, high = source.value_range
    values = low + grey.astype(np.float64) * (high - low)
    if source.mode == "I":
        return Image.fromarray(np.rint(values).clip(-(2**31), 2**31 - 1).astype(np.int32))
    return Image.fromarray(values.astype(np.float32))


def _grey_levels(image: Image.Image) -> np.ndarray:
    """An I;16*, I or F image as float64 in [0, 1]; I / F values outside 0..65535 / [0, 1] by min/max."""
    values = np.asarray(image).astype(np.float64)
    if image.mode.startswith("I;16"):
        return values / 65535
    top = 65535.0 if image.mode == "I" else 1.0
    low, high = float(values.min()), float(values.max())
    if low >= 0 and high <= top:
        return values / top
    return (values - low) / ((high - low) or 1.0)


def grey_as(image: Image.Image, dtype: type) -> Image.Image:
    """An I;16*, I or F image as 8-bit L (uint8) or I;16 (uint16)."""
    return Image.fromarray(from_float(_grey_levels(image), dtype))


def blend(
    original: np.ndarray, stylized: np.ndarray, strength: float, out: np.ndarray | None = None
) -> np.ndarray:
    """`original + strength * (stylized - original)` as float32; 0 gives original, 1 stylized,
    exactly. `out` (float32, of their shape; may be `stylized` itself) receives it."""
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be within 0..1, got {strength}")
    if original.shape != stylized.shape:
        raise ValueError(f"shapes differ: {original.shape} and {stylized.shape}")
    weight = np.float32(strength)
    out = np.multiply(stylized, weight, out=out, dtype=np.float32)
    out += (np.float32(1) - weight) * original  # the same blend, exact at 0 and 1
    return out


def preserve_colors(
    original: np.ndarray, stylized: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Luminance (BT.601 Y) of `stylized` with the chroma (Cb, Cr) of `original`, float32 in [0, 1];
    `out` (float32, of their shape; may be `stylized` itself) receives it.

    Y's weights sum to 1 and Cb's and Cr's to 0, so adding the luma difference to every channel
    of the original changes its Y to the stylized Y and leaves Cb and Cr as they were.
    """
    if original.shape != stylized.shape:
        raise ValueError(f"shapes differ: {original.shape} and {stylized.shape}")
    shift = luma(stylized)
    shift -= luma(original)
    out = np.add(original, shift[..., None], out=out, dtype=np.float32)
    return np.clip(out, 0, 1, out=out)


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of float RGB (HxWx3 -> HxW float32)."""
    y = np.multiply(rgb[..., 0], np.float32(0.299), dtype=np.float32)
    y += np.float32(0.587) * rgb[..., 1]
    y += np.float32(0.114) * rgb[..., 2]
    return y


def fit_max_side(source: SourceImage, max_side: int | None) -> SourceImage:
    """Scale `source` down (Lanczos, alpha too) so its longer side is at most `max_side`.

    Never scales up; returns `source` itself when there is nothing to do, and for None or 0
    (full size, as everywhere in the project). `info` (DPI included) is kept as it was.
    """
    if max_side is not None and max_side < 0:
        raise ValueError(f"max_side must be 0 (full size) or more, got {max_side}")
    longest = max(source.height, source.width)
    if not max_side or longest <= max_side:
        return source
    scale = max_side / longest
    size = (max(1, round(source.width * scale)), max(1, round(source.height * scale)))
    alpha = None if source.alpha is None else _resize_plane(source.alpha, size)
    return replace(source, rgb=resize_rgb(source.rgb, size), alpha=alpha)


def resize_rgb(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize HxWx3 uint8 / uint16 / float32 [0, 1] values to `size` = (width, height), Lanczos."""
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected HxWx3 values, got shape {array.shape}")
    return np.stack([_resize_plane(array[..., c], size) for c in range(3)], axis=2)


def _resize_plane(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize one HxW plane with Lanczos, keeping its dtype (8-bit in mode L, others in mode F)."""
    if plane.dtype == np.uint8:
        return np.array(
            Image.fromarray(np.ascontiguousarray(plane)).resize(size, Image.Resampling.LANCZOS)
        )
    values = Image.fromarray(plane.astype(np.float32)).resize(size, Image.Resampling.LANCZOS)
    if plane.dtype == np.uint16:
        return np.clip(np.rint(np.asarray(values)), 0, 65535).astype(np.uint16)
    return np.clip(np.asarray(values), 0, 1).astype(plane.dtype)
