"""Writing images: a PIL image -> file bytes in the format asked for -> a file, atomically.

`encode_image` adapts the image's mode to the format and keeps the ICC profile, DPI and EXIF
where the format holds them, and 16-bit colour in PNG and TIFF; `check_target` refuses to
write onto the input, a folder or (unless asked) an existing file; `write_encoded` writes all
or nothing. `save_image` does all three. The Ray engine encodes on a worker and writes on the
machine that holds the files.

Only numpy, Pillow and the standard library here: hosts that only stylize never import torch.
"""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from style_plugin.atomic import atomic_path
from style_plugin.contract import printable
from style_plugin.errors import ImageError, one_line
from style_plugin.runtime.colour_profiles import GREY_MODES, icc_fits
from style_plugin.runtime.pixels import grey_as, wide_values
from style_plugin.runtime.reading import SourceImage
from style_plugin.runtime.wide_colour import WIDE_FORMATS, encode_wide

__all__ = ["check_target", "encode_image", "save_image", "write_encoded"]

# Formats whose Pillow writers take an ICC profile, DPI and EXIF (WebP: no DPI).
_METADATA_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF"})
_COMMON_SUFFIXES = ".png, .jpg, .webp or .tif"


def save_image(
    image: Image.Image,
    target: str | os.PathLike[str],
    *,
    source: SourceImage | None = None,
    format: str | None = None,
    quality: int | None = None,
    overwrite: bool = False,
) -> Path:
    """Write `image` atomically to `target` and return the path; ImageError if it cannot.

    The format comes from `format` or the suffix. Never writes onto `source.path`, nor onto an
    existing file unless `overwrite`. What is written is `encode_image`'s bytes.
    """
    target = Path(target)
    fmt = _format_for(target, format)
    check_target(target, source.path if source is not None else None, overwrite)
    data = encode_image(image, fmt, quality=quality, name=target)
    return write_encoded(data, target, overwrite=overwrite)


def encode_image(
    image: Image.Image, fmt: str, *, quality: int | None = None, name: str | Path = "the image"
) -> bytes:
    """The file bytes of `image` in Pillow format `fmt`; ImageError if it cannot be written so.

    The ICC profile, DPI and EXIF in `image.info` are kept where the format holds them. Modes
    are adapted to the format: 16-bit / float grey becomes 8-bit except in PNG (16-bit) and
    TIFF; JPEG drops a fully opaque alpha and refuses real transparency. The 16-bit colour
    values `restore` attaches are written at 16 bits to PNG and TIFF (TIFF without EXIF), at
    8 to the other formats. `quality` applies to JPEG (default 95) and WebP (default
    Pillow's). `name` is the target, for messages.
    """
    if quality is not None and not 1 <= quality <= 100:
        raise ValueError(f"quality must be within 1..100, got {quality}")
    wide = wide_values(image) if fmt in WIDE_FORMATS else None
    image = _adapt(image, fmt, name)
    params = _save_params(image, fmt, quality)
    buffer = BytesIO()
    try:
        if wide is not None:
            return encode_wide(
                wide,
                fmt,
                icc_profile=params["icc_profile"],
                dpi=params.get("dpi"),
                exif=params.get("exif"),
            )
        image.save(buffer, format=fmt, **params)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImageError(f"cannot write {printable(str(name))} as {fmt}: {one_line(exc)}") from exc
    return buffer.getvalue()


def check_target(target: Path, input_path: Path | None, overwrite: bool) -> None:
    """ImageError unless `target` may be written: not the input, not a folder, not an
    existing file (unless `overwrite`)."""
    shown = printable(str(target))
    if input_path is not None and _same_file(target, input_path):
        raise ImageError(f"refusing to write onto the input {printable(str(input_path))}")
    if target.is_dir():
        raise ImageError(f"{shown} is a directory")
    if target.exists() and not overwrite:
        raise ImageError(f"{shown} exists; pass --overwrite to replace it")


def write_encoded(data: bytes, target: Path, *, overwrite: bool = False) -> Path:
    """Write encoded image bytes to `target` atomically (all or nothing) and return it."""
    try:
        with atomic_path(target, overwrite=overwrite) as tmp:
            tmp.write_bytes(data)
    except FileExistsError:
        raise ImageError(
            f"{printable(str(target))} exists; pass --overwrite to replace it"
        ) from None
    except OSError as exc:
        raise ImageError(f"cannot write {printable(str(target))}: {one_line(exc)}") from exc
    return target


def _format_for(target: Path, format: str | None) -> str:
    """Pillow's format name from an explicit `format` ("jpg", "PNG", ...) or the target's suffix."""
    Image.init()
    extensions = Image.registered_extensions()
    if format:
        name = format.upper()
        if name not in Image.SAVE:
            name = extensions.get("." + format.lower().lstrip("."), "")
        if name not in Image.SAVE:
            raise ImageError(f"unknown image format {format!r}; use png, jpeg, webp or tiff")
        return name
    name = extensions.get(target.suffix.lower(), "")
    if name not in Image.SAVE:
        raise ImageError(
            f"cannot tell which format to write for {printable(str(target))} from its suffix "
            f"{target.suffix!r}; use {_COMMON_SUFFIXES} (or pass --format)"
        )
    return name


def _same_file(target: Path, source: Path) -> bool:
    """Whether `target` names the file `source` (through links, relative paths or hard links)."""
    if target.resolve() == source.resolve():
        return True
    try:
        return os.path.samefile(target, source)
    except OSError:  # one of them does not exist
        return False


def _adapt(image: Image.Image, fmt: str, target: str | Path) -> Image.Image:
    """Convert `image` to a mode `fmt` can hold (see `encode_image`)."""
    if image.mode in ("I", "F") and fmt == "PNG":
        return grey_as(image, np.uint16)
    high_bit = image.mode in ("I", "F") or image.mode.startswith("I;16")
    if high_bit and fmt not in ("PNG", "TIFF"):
        image = grey_as(image, np.uint8)
    if fmt == "JPEG" and image.mode not in ("L", "RGB", "CMYK"):
        grey = image.mode in GREY_MODES
        if image.has_transparency_data:
            alpha = image.convert("LA" if grey else "RGBA").getchannel("A")
            if alpha.getextrema()[0] < 255:
                raise ImageError(
                    f"JPEG cannot store transparency ({printable(str(target))}); "
                    "use .png, .webp or .tiff"
                )
        return image.convert("L" if grey else "RGB")
    if fmt == "WEBP" and image.mode in ("L", "LA"):  # WebP has no grey: say so to the ICC check
        return image.convert("RGB" if image.mode == "L" else "RGBA")
    return image


def _save_params(image: Image.Image, fmt: str, quality: int | None) -> dict[str, Any]:
    """Pillow `save` keywords: metadata the format can hold, and quality."""
    params: dict[str, Any] = {}
    if fmt in _METADATA_FORMATS:
        icc = image.info.get("icc_profile")
        # None, not nothing: PNG and TIFF writers would take the profile from image.info
        params["icc_profile"] = icc if icc and icc_fits(icc, image.mode) else None
        if image.info.get("exif"):
            params["exif"] = image.info["exif"]
        if image.info.get("dpi") and fmt != "WEBP":
            params["dpi"] = image.info["dpi"]
    if fmt == "JPEG":
        params["quality"] = quality or 95
    elif fmt == "WEBP" and quality is not None:
        params["quality"] = quality
    return params
