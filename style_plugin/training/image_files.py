"""Training images opened as the runtime opens them: in its formats only, under its
decompression-bomb guard, EXIF orientation applied, as RGB or as float tensors; and the one
line that says why a file could not be used."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from style_plugin.contract import printable
from style_plugin.errors import DataError
from style_plugin.runtime.reading import (
    TooLargeError,
    UnreadFormatError,
    bomb_guarded,
    draft_to,
    open_readable,
)

#: The EXIF tag of a picture's orientation.
EXIF_ORIENTATION = 0x0112


def why_unusable(exc: BaseException) -> str:
    """A short one-line description of why an image could not be used."""
    if isinstance(exc, UnreadFormatError | TooLargeError):
        text = exc.reason
    elif isinstance(exc, UnidentifiedImageError):
        text = "not an image (unknown or unsupported format)"
    elif isinstance(exc, PermissionError):
        text = "unreadable (permission denied)"
    elif isinstance(exc, FileNotFoundError):
        text = "file not found"
    elif isinstance(exc, IsADirectoryError):
        text = "is a folder, not a file"
    elif isinstance(exc, OSError) and "truncated" in str(exc):
        text = f"truncated or corrupt ({exc})"
    else:
        text = f"corrupt or unreadable ({type(exc).__name__}: {exc})"
    return " ".join(text.split())


def unreadable_photo(path: Path, exc: BaseException) -> DataError:
    """The one-line error of a content photo that became unusable after the scan."""
    return DataError(f"cannot read content image {path}: {why_unusable(exc)}")


def displayed_size(img: Image.Image) -> tuple[int, int]:
    """Width and height after EXIF orientation (tags 5-8 swap the axes)."""
    w, h = img.size
    try:
        orientation = img.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # broken EXIF: exif_transpose would ignore it too
        orientation = 1
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def to_rgb(img: Image.Image) -> Image.Image:
    """EXIF orientation applied, 16-bit scaled to 8, transparency flattened onto white, RGB."""
    img = ImageOps.exif_transpose(img)
    if img.mode.startswith("I;16") or (img.mode == "I" and img.getextrema()[1] > 255):
        # 16-bit greyscale: Pillow's convert() would clip to 255, so scale to 8 bits instead.
        img = Image.fromarray((np.asarray(img, dtype=np.uint32) >> 8).clip(0, 255).astype(np.uint8))
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def to_tensor(img: Image.Image) -> Tensor:
    """RGB PIL image -> float32 ``[3,H,W]`` in [0,1]."""
    return torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).float().div_(255.0)


@contextlib.contextmanager
def opened(path: Path, allow_large: bool = False) -> Iterator[Image.Image]:
    """``path`` opened by Pillow as the runtime opens files: in its formats only (an EPS named
    .png never reaches Ghostscript), decoded under its decompression-bomb guard (unless
    ``allow_large``) within the block; closed afterwards."""
    guard = bomb_guarded(printable(str(path)), allow_large=allow_large)
    with path.open("rb") as file, guard, open_readable(file, path) as img:
        yield img


def open_rgb(path: Path, max_side: int | None = None, allow_large: bool = False) -> Image.Image:
    """Decode ``path`` to RGB (EXIF applied), downscaled so the long side <= ``max_side``."""
    with opened(path, allow_large) as img:
        w, h = img.size
        scale = 1.0 if max_side is None else min(1.0, max_side / max(w, h))
        target = (max(1, round(w * scale)), max(1, round(h * scale)))
        draft_to(img, max_side)
        img.load()
        if scale < 1.0:
            img = img.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        return to_rgb(img)
