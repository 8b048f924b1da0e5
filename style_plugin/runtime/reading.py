"""Reading images: a file, its bytes, a PIL image or a numpy array -> a `SourceImage`.

A style model consumes RGB in [0, 1]. `open_image` turns a file, a PIL image or a numpy array
into a `SourceImage` (RGB at the source's bit depth, the exact alpha, what kind of image it was,
its ICC profile / DPI / EXIF); `open_image_bytes` does the same for bytes that travel between
machines. Files are untrusted: they are opened only in `READ_FORMATS` (Pillow's own sniffing
would hand an EPS named .png to Ghostscript), under Pillow's decompression-bomb guard, with
what Pillow warns kept as notes. `pixels.restore` and `writing.save_image` go the other way.

Only numpy, Pillow and the standard library here: hosts that only stylize never import torch.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from style_plugin.errors import ImageError, one_line
from style_plugin.runtime.colour_profiles import GREY_MODES, cmyk_to_rgb

__all__ = [
    "KEPT_INFO",
    "READ_FORMATS",
    "SourceImage",
    "UnreadFormatError",
    "open_image",
    "open_image_bytes",
    "open_readable",
    "read_image_bytes",
]

KEPT_INFO = ("icc_profile", "dpi", "exif")
"""Metadata carried from the input to the output (when the output format can store it)."""

READ_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF")
"""The Pillow formats image files are opened in (JPEG includes cameras' multi-picture MPO);
no other decoder (Ghostscript for EPS, PSD, TGA, ...) ever sees a file."""

# What Pillow decoders raise on damaged data (besides OSError: "image file is truncated" ...).
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error)
# Modes converted on the way in; "P"/"L"/"RGB" depend on transparency, CMYK on the ICC profile.
_CONVERT_ON_OPEN = {
    "1": "L",
    "La": "LA",
    "PA": "RGBA",
    "RGBa": "RGBA",
    "RGBX": "RGB",
    "YCbCr": "RGB",
    "LAB": "RGB",
    "HSV": "RGB",
}
_WITH_TRANSPARENCY = {"P": ("RGBA", "RGB"), "L": ("LA", "L"), "RGB": ("RGBA", "RGB")}
_READ_NAMES = "JPEG, PNG, WebP, TIFF, BMP and GIF"
_PILLOW_DIR = Path(Image.__file__).parent

# Pillow's decompression-bomb limit and the warnings filters are process-wide, so every decode
# holds this lock while it lifts the limit (allow_large) or redirects Pillow's warnings.
# Decodes therefore run one at a time; inference, not decoding, is what takes the time.
_DECODE_LOCK = threading.Lock()


class UnreadFormatError(ImageError):
    """A file in a format Pillow knows but style-plugin does not open (EPS, PSD, TGA, ...)."""

    def __init__(self, name: str, format: str) -> None:
        self.reason = (
            f"is in {format} format, which style-plugin does not read (it reads {_READ_NAMES})"
        )
        super().__init__(f"{name} {self.reason}")


@dataclass
class SourceImage:
    """An input image as RGB for a style model, plus what is needed to rebuild its kind.

    `rgb` is HxWx3: uint8 for 8-bit inputs, uint16 for 16-bit ones (I;16*, mode I within
    0..65535, uint16 arrays), float32 in [0, 1] for mode F and float arrays. Greyscale inputs
    repeat the grey channel three times. Mode I/F images whose values leave 0..65535 / [0, 1]
    are scaled linearly from their (min, max) into [0, 1]; `value_range` keeps (min, max) so
    that `restore` maps the result back. `alpha` is HxW, exactly the input's alpha values.
    `kind` is "rgb" or "grey": what the output should look like. `mode` is the input's Pillow
    mode (for arrays: the Pillow mode closest to the array's layout). `info` holds the
    input's `icc_profile`, `dpi` and `exif` (EXIF orientation already applied and removed).
    `notes` holds what Pillow warned while decoding (garbage EXIF, ...), one line each.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None
    mode: str
    kind: str
    info: dict[str, Any] = field(default_factory=dict)
    format: str | None = None
    path: Path | None = None
    frames_dropped: int = 0
    value_range: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        """Rows of pixels."""
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        """Columns of pixels."""
        return int(self.rgb.shape[1])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as Pillow orders it."""
        return self.width, self.height

    @property
    def opaque(self) -> bool:
        """Whether every pixel is fully opaque (no alpha, or alpha at its maximum everywhere):
        then a format without transparency loses nothing."""
        if self.alpha is None:
            return True
        top = 1.0 if self.alpha.dtype.kind == "f" else np.iinfo(self.alpha.dtype).max
        return bool(self.alpha.min() >= top)


def open_image(
    source: str | os.PathLike[str] | Image.Image | np.ndarray, *, allow_large: bool = False
) -> SourceImage:
    """Read a path, PIL image or numpy array into a `SourceImage`; ImageError says what is wrong.

    Files and PIL images are decoded fully, upright (EXIF orientation applied); animated files
    give their first frame (PIL images: their current frame) and count the rest in
    `frames_dropped`. Pillow's decompression-bomb guard stays on unless `allow_large`; what
    Pillow warns goes to `notes`, not to stderr. Files must be in one of `READ_FORMATS`.
    """
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, Image.Image):
        name = getattr(source, "filename", "") or "the image"
        notes: list[str] = []
        with _decoding(name, allow_large, notes):
            frame, dropped = _decode(source, name, in_place=False)
            return _from_pil(
                frame,
                mode=source.mode,
                name=name,
                format=source.format,
                dropped=dropped,
                notes=notes,
            )
    if isinstance(source, str | os.PathLike):
        return _read_file(Path(source), allow_large)
    raise TypeError(f"cannot open {type(source).__name__}: pass a path, a PIL image or an array")


def _read_file(path: Path, allow_large: bool) -> SourceImage:
    """Decode an image file, turning each way it can fail into one clear ImageError."""
    with _open_file(path) as handle:
        return _decode_file(handle, path, allow_large, path)


def read_image_bytes(path: str | os.PathLike[str]) -> bytes:
    """An image file's bytes, undecoded (for `open_image_bytes` elsewhere), with the checks
    and errors of `open_image`."""
    path = Path(path)
    with _open_file(path) as handle:
        return handle.read()


def _open_file(path: Path) -> BinaryIO:
    """Open a regular, non-empty file for reading; ImageError saying why not otherwise."""
    if not path.exists():
        raise ImageError(f"no such file: {path}")
    if path.is_dir():
        raise ImageError(f"{path} is a directory, not an image file")
    if not path.is_file():
        raise ImageError(f"{path} is not a regular file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path} is empty (0 bytes)")
    try:
        return path.open("rb")
    except OSError as exc:
        raise ImageError(f"cannot read {path}: {exc.strerror or exc}") from exc


def open_image_bytes(data: bytes, name: str | Path, *, allow_large: bool = False) -> SourceImage:
    """Decode an image file's bytes exactly as `open_image` decodes the file itself.

    For work shipped to another machine (the Ray engine): `name` is the file's path on the
    machine that read it, for messages and the format sniffing of `open_readable`; the
    result's `path` stays None, since no file here holds it.
    """
    name = Path(name)
    if not data:
        raise ImageError(f"{name} is empty (0 bytes)")
    return _decode_file(BytesIO(data), name, allow_large, None)


def _decode_file(handle: BinaryIO, name: Path, allow_large: bool, path: Path | None) -> SourceImage:
    """Decode an opened image file named `name` (`path`: the file on this machine, if any)."""
    notes: list[str] = []
    with _decoding(str(name), allow_large, notes):
        try:
            opened = open_readable(handle, name)
        except UnidentifiedImageError:
            raise ImageError(f"{name} is not an image Pillow can read") from None
        except _DECODE_ERRORS as exc:
            raise ImageError(f"{name} is truncated or corrupt: {one_line(exc)}") from exc
        with opened:  # closing destroys the pixels: convert them first
            frame, dropped = _decode(opened, str(name), in_place=True)
            return _from_pil(
                frame,
                mode=opened.mode,
                name=str(name),
                format=opened.format,
                path=path,
                dropped=dropped,
                notes=notes,
            )


def open_readable(file: BinaryIO, path: Path) -> Image.Image:
    """`Image.open` limited to `READ_FORMATS`, for `file` opened from `path` at its start.

    A file in another format Pillow knows, by its first bytes or else its suffix, is an
    UnreadFormatError; one in no known format stays Pillow's UnidentifiedImageError.
    """
    try:
        return Image.open(file, formats=READ_FORMATS)
    except UnidentifiedImageError:
        file.seek(0)
        other = _other_format(file.read(16), path.suffix)
        if other is None:
            raise
        raise UnreadFormatError(str(path), other) from None


def _other_format(prefix: bytes, suffix: str) -> str | None:
    """The format outside `READ_FORMATS` that a file starting with `prefix` is in: the one its
    suffix names unless that format's signature check rejects `prefix`, else the first whose
    check accepts it, else None. Only the checks run, no decoder."""
    Image.init()
    others = {name: accept for name, (_, accept) in Image.OPEN.items() if name not in READ_FORMATS}
    named = Image.registered_extensions().get(suffix.lower(), "")
    if named in others and (others[named] is None or others[named](prefix)):
        return named
    return next((name for name, accept in others.items() if accept and accept(prefix)), None)


@contextlib.contextmanager
def _decoding(name: str, allow_large: bool, notes: list[str]) -> Iterator[None]:
    """What every decode runs under: the decode lock, Pillow's warnings as notes, the bomb guard.

    The guard comes last so that its error filter takes precedence over the notes' filter.
    """
    with _DECODE_LOCK, _warnings_as_notes(notes), _bomb_guard(name, allow_large):
        yield


@contextlib.contextmanager
def _warnings_as_notes(notes: list[str]) -> Iterator[None]:
    """Collect what Pillow warns on this thread meanwhile into `notes` (one line each, once),
    instead of printing it without the file's name; other warnings are shown as before."""
    thread = threading.get_ident()
    with warnings.catch_warnings():
        warnings.filterwarnings("always", module=r"PIL\.")  # every file gets its own notes
        show = warnings.showwarning

        def collect(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if threading.get_ident() != thread or Path(filename).parent != _PILLOW_DIR:
                show(message, category, filename, lineno, file, line)
            elif (note := f"Pillow warned: {one_line(message)}") not in notes:
                notes.append(note)

        warnings.showwarning = collect
        yield


@contextlib.contextmanager
def _bomb_guard(name: str, allow_large: bool) -> Iterator[None]:
    """Turn Pillow's decompression-bomb warning and error into ImageError; lift the limit if asked.

    The limit is restored afterwards; `_DECODE_LOCK` keeps other decodes from seeing it lifted.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        limit = Image.MAX_IMAGE_PIXELS
        if allow_large:
            Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            found = re.search(r"\((\d+) pixels\)", str(exc))
            pixels = f"{int(found.group(1)):,}" if found else "too many"
            raise ImageError(
                f"{name} has {pixels} pixels, more than Pillow's decompression-bomb limit of "
                f"{limit:,}; if you trust it, pass --allow-large (allow_large=True in Python)"
            ) from exc
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def _decode(image: Image.Image, name: str, *, in_place: bool) -> tuple[Image.Image, int]:
    """Load the current frame fully and upright; return it and how many frames are left out."""
    try:
        frames = getattr(image, "n_frames", 1)
        if in_place:
            ImageOps.exif_transpose(image, in_place=True)
            return image, frames - 1
        return ImageOps.exif_transpose(image), frames - 1
    except _DECODE_ERRORS as exc:
        raise ImageError(f"{name} is truncated or corrupt: {one_line(exc)}") from exc


def _from_pil(
    image: Image.Image,
    *,
    mode: str,
    name: str,
    format: str | None,
    path: Path | None = None,
    dropped: int = 0,
    notes: list[str],
) -> SourceImage:
    """Build a SourceImage from a decoded, upright Pillow image whose original mode was `mode`."""
    info = {key: image.info[key] for key in KEPT_INFO if image.info.get(key)}
    if image.mode == "CMYK":
        image = cmyk_to_rgb(image)
        info.pop("icc_profile", None)  # a CMYK profile does not describe the RGB result
    elif image.mode in _WITH_TRANSPARENCY:
        with_alpha, without = _WITH_TRANSPARENCY[image.mode]
        image = image.convert(with_alpha if image.has_transparency_data else without)
    elif image.mode in _CONVERT_ON_OPEN:
        image = image.convert(_CONVERT_ON_OPEN[image.mode])
    rgb, alpha, value_range = _arrays(image, name)
    kind = "grey" if image.mode in GREY_MODES else "rgb"
    return SourceImage(rgb, alpha, mode, kind, info, format, path, dropped, value_range, notes)


def _arrays(
    image: Image.Image, name: str
) -> tuple[np.ndarray, np.ndarray | None, tuple[float, float] | None]:
    """(rgb, alpha, value_range) of an image in mode RGB, RGBA, L, LA, I;16*, I or F."""
    if image.mode in ("RGB", "RGBA", "LA"):
        data = np.asarray(image)
        alpha = data[..., -1].copy() if image.mode != "RGB" else None
        rgb = data[..., :3].copy() if image.mode != "LA" else _grey3(data[..., 0])
        return rgb, alpha, None
    if image.mode == "L" or image.mode.startswith("I;16"):
        grey = np.asarray(image)
        return _grey3(grey.astype(grey.dtype.name, copy=False)), None, None  # native byte order
    if image.mode not in ("I", "F"):
        raise ImageError(f"{name}: Pillow mode {image.mode} is not supported")
    values = np.asarray(image)
    low, high = float(values.min()), float(values.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ImageError(f"{name} holds NaN or infinite values")
    if image.mode == "I" and low >= 0 and high <= 65535:
        return _grey3(values.astype(np.uint16)), None, None
    if image.mode == "F" and low >= 0 and high <= 1:
        return _grey3(values.astype(np.float32)), None, None
    scaled = (values.astype(np.float64) - low) / ((high - low) or 1.0)
    return _grey3(scaled.astype(np.float32)), None, (low, high)


def _grey3(grey: np.ndarray) -> np.ndarray:
    """HxW grey -> HxWx3 with the grey repeated (the model needs three channels)."""
    return np.repeat(grey[..., None], 3, axis=2)


def _from_array(array: np.ndarray) -> SourceImage:
    """HxW grey, HxWx3 RGB or HxWx4 RGBA of uint8, uint16 or float in [0, 1] -> SourceImage."""
    layout_ok = array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))
    if (
        array.dtype.name not in ("uint8", "uint16", "float32", "float64")
        or not layout_ok
        or array.size == 0
    ):
        raise ImageError(
            f"cannot use an array of shape {array.shape} and dtype {array.dtype}: expected HxW, "
            "HxWx3 or HxWx4 of uint8, uint16 or float32/float64 in [0, 1]"
        )
    if array.dtype.kind == "f":
        low, high = array.min(), array.max()
        if not (low >= 0 and high <= 1):  # also false for NaN
            raise ImageError(f"float image values must lie in [0, 1], got {low:g}..{high:g}")
        array = array.astype(np.float32)
    else:
        array = array.astype(array.dtype.name)  # a native-byte-order copy
    if array.ndim == 2:
        mode = {"uint8": "L", "uint16": "I;16", "float32": "F"}[array.dtype.name]
        return SourceImage(_grey3(array), None, mode, "grey")
    alpha = array[..., 3].copy() if array.shape[2] == 4 else None
    mode = "RGBA" if alpha is not None else "RGB"
    return SourceImage(np.ascontiguousarray(array[..., :3]), alpha, mode, "rgb")
