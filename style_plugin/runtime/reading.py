"""Reading images: a file, its bytes, a PIL image or a numpy array -> a `SourceImage`.

A style model consumes RGB in [0, 1]. `open_image` turns a file, a PIL image or a numpy array
into a `SourceImage` (RGB at the source's bit depth, the exact alpha, what kind of image it was,
its ICC profile / DPI / EXIF); `open_image_bytes` does the same for bytes that travel between
machines. Files are untrusted: they are opened only in `READ_FORMATS` (Pillow's own sniffing
would hand an EPS named .png to Ghostscript), under Pillow's decompression-bomb guard, with
what Pillow warns kept as notes; messages name files with their control characters escaped.
16-bit colour PNGs and TIFFs keep their 16 bits (see `wide_colour`), although Pillow's own
colour modes hold 8. `pixels.restore` and `writing.save_image` go the other way. No torch.
"""

from __future__ import annotations

import contextlib
import math
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

from style_plugin.contract import printable
from style_plugin.errors import ImageError, one_line
from style_plugin.runtime.colour_profiles import GREY_MODES, cmyk_to_rgb
from style_plugin.runtime.wide_colour import WideColour, wide_colour

__all__ = [
    "KEPT_INFO",
    "READ_FORMATS",
    "SourceImage",
    "TooLargeError",
    "UnreadFormatError",
    "bomb_guarded",
    "open_image",
    "open_image_bytes",
    "open_readable",
    "read_image_bytes",
    "reads_16_bit_colour",
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
# Formats Pillow decodes at a reduced size on request (its draft mode: 1/2, 1/4 or 1/8 scale).
_DRAFT_FORMATS = frozenset({"JPEG", "MPO"})
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
        super().__init__(f"{printable(name)} {self.reason}")


class TooLargeError(ImageError):
    """An image with more pixels than Pillow's decompression-bomb limit, not lifted."""

    def __init__(self, name: str, pixels: str, limit: int) -> None:
        self.reason = (
            f"has {pixels} pixels, more than Pillow's decompression-bomb limit of {limit:,}; "
            "if you trust it, pass --allow-large (allow_large=True in Python)"
        )
        super().__init__(f"{name} {self.reason}")


@dataclass
class SourceImage:
    """An input image as RGB for a style model, plus what is needed to rebuild its kind.

    `rgb` is HxWx3: uint8 for 8-bit inputs, uint16 for 16-bit ones (I;16*, mode I within
    0..65535, 16-bit colour PNGs and TIFFs, uint16 arrays), float32 in [0, 1] for mode F and
    float arrays. Greyscale inputs repeat the grey channel three times. Mode I/F images whose
    values leave 0..65535 / [0, 1] are scaled linearly from their (min, max) into [0, 1];
    `value_range` keeps (min, max) so that `restore` maps the result back. `alpha` is HxW,
    exactly the input's alpha values. `kind` is "rgb" or "grey": what the output should look
    like. `mode` is the input's Pillow mode (for arrays: the Pillow mode closest to the
    array's layout). `info` holds the input's `icc_profile`, `dpi` and `exif` (EXIF
    orientation already applied and removed). `notes` holds what Pillow warned while
    decoding (garbage EXIF, ...), one line each.
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
    source: str | os.PathLike[str] | Image.Image | np.ndarray,
    *,
    allow_large: bool = False,
    draft_side: int | None = None,
) -> SourceImage:
    """Read a path, PIL image or numpy array into a `SourceImage`; ImageError says what is wrong.

    Files and PIL images are decoded fully, upright (EXIF orientation applied); animated files
    give their first frame (PIL images: their current frame) and count the rest in
    `frames_dropped`. Pillow's decompression-bomb guard stays on unless `allow_large`; what
    Pillow warns goes to `notes`, not to stderr. Files must be in one of `READ_FORMATS`.
    `draft_side` is the long side the caller will scale the image down to (`fit_max_side`):
    a JPEG file is then decoded at the smallest of 1/2, 1/4 and 1/8 scale that keeps at least
    that, in a fraction of the memory and time; other images decode at full size.
    """
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, Image.Image):
        name = printable(str(getattr(source, "filename", "") or "the image"))
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
        return _read_file(Path(source), allow_large, draft_side)
    raise TypeError(f"cannot open {type(source).__name__}: pass a path, a PIL image or an array")


def _read_file(path: Path, allow_large: bool, draft_side: int | None) -> SourceImage:
    """Decode an image file, turning each way it can fail into one clear ImageError."""
    with _open_file(path) as handle:
        return _decode_file(handle, path, allow_large, path, draft_side)


def read_image_bytes(path: str | os.PathLike[str]) -> bytes:
    """An image file's bytes, undecoded (for `open_image_bytes` elsewhere), with the checks
    and errors of `open_image`."""
    path = Path(path)
    with _open_file(path) as handle:
        return handle.read()


def _open_file(path: Path) -> BinaryIO:
    """Open a regular, non-empty file for reading; ImageError saying why not otherwise."""
    shown = printable(str(path))
    if not path.exists():
        raise ImageError(f"no such file: {shown}")
    if path.is_dir():
        raise ImageError(f"{shown} is a directory, not an image file")
    if not path.is_file():
        raise ImageError(f"{shown} is not a regular file")
    if path.stat().st_size == 0:
        raise ImageError(f"{shown} is empty (0 bytes)")
    try:
        return path.open("rb")
    except OSError as exc:
        raise ImageError(f"cannot read {shown}: {exc.strerror or exc}") from exc


def open_image_bytes(
    data: bytes, name: str | Path, *, allow_large: bool = False, draft_side: int | None = None
) -> SourceImage:
    """Decode an image file's bytes exactly as `open_image` decodes the file itself.

    For work shipped to another machine (the Ray engine): `name` is the file's path on the
    machine that read it, for messages and the format sniffing of `open_readable`; the
    result's `path` stays None, since no file here holds it.
    """
    name = Path(name)
    if not data:
        raise ImageError(f"{printable(str(name))} is empty (0 bytes)")
    return _decode_file(BytesIO(data), name, allow_large, None, draft_side)


def _decode_file(
    handle: BinaryIO, name: Path, allow_large: bool, path: Path | None, draft_side: int | None
) -> SourceImage:
    """Decode an opened image file named `name` (`path`: the file on this machine, if any)."""
    notes: list[str] = []
    shown = printable(str(name))
    with _decoding(shown, allow_large, notes):
        opened = _open_decodable(handle, name)
        with opened:  # closing destroys the pixels: convert them first
            wide = wide_colour(opened)  # known from the header, before any decoding
            draft_to(opened, draft_side)
            frame, dropped = _decode(opened, shown, in_place=True)
            return _from_pil(
                frame,
                mode=opened.mode,
                name=shown,
                format=opened.format,
                path=path,
                dropped=dropped,
                notes=notes,
                wide=None if wide is None else (wide, _low_bytes(handle, name, frame, wide)),
            )


def _open_decodable(handle: BinaryIO, name: Path) -> Image.Image:
    """`open_readable`, with each way it can fail as one ImageError naming the file."""
    try:
        return open_readable(handle, name)
    except UnidentifiedImageError:
        raise ImageError(f"{printable(str(name))} is not an image Pillow can read") from None
    except _DECODE_ERRORS as exc:
        raise ImageError(
            f"{printable(str(name))} is truncated or corrupt: {one_line(exc)}"
        ) from exc


def draft_to(image: Image.Image, side: float | None) -> None:
    """Let an opened JPEG decode at the smallest DCT scale whose long side stays at least
    `side` (a quick downscale before the exact resize); other images are left as they are."""
    if not side or image.format not in _DRAFT_FORMATS or max(image.size) <= side:
        return
    scale = side / max(image.size)
    image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))


def _low_bytes(handle: BinaryIO, name: Path, high: Image.Image, wide: WideColour) -> np.ndarray:
    """The low bytes of the samples of a 16-bit colour file whose high bytes Pillow decoded
    as `high`: the file decoded once more, upright, with the byte order of its raw mode
    swapped."""
    handle.seek(0)
    with _open_decodable(handle, name) as again:
        if wide_colour(again) == wide:
            again.tile = wide.low_byte_tiles(again.tile)
            low, _ = _decode(again, printable(str(name)), in_place=True)
            if low.size == high.size:
                return np.asarray(low)
    raise ImageError(f"{printable(str(name))} changed while it was read")


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


def reads_16_bit_colour(path: Path) -> bool:
    """Whether `open_image` reads the file at `path` as 16 bits per colour channel (a 16-bit
    colour PNG or TIFF), from its header alone; False for any other file, or one it cannot
    open (decoding it says why, in its turn)."""
    try:
        with _DECODE_LOCK, warnings.catch_warnings(), path.open("rb") as handle:
            warnings.simplefilter("ignore")  # a large image's warning: decoding tells it
            with Image.open(handle, formats=("PNG", "TIFF")) as image:
                return wide_colour(image) is not None
    except (Image.DecompressionBombError, *_DECODE_ERRORS):
        return False


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
def bomb_guarded(name: str, *, allow_large: bool = False) -> Iterator[None]:
    """Pillow's decompression-bomb guard as `open_image` decodes under it (TooLargeError unless
    `allow_large`), one decode at a time: for callers that open a file with `open_readable`
    and decode it their own way (the trainer's loader)."""
    with _DECODE_LOCK, _bomb_guard(name, allow_large):
        yield


@contextlib.contextmanager
def _bomb_guard(name: str, allow_large: bool) -> Iterator[None]:
    """Pillow's decompression-bomb warning and error as TooLargeError; the limit lifted if asked.

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
            raise TooLargeError(name, pixels, limit) from exc
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
    wide: tuple[WideColour, np.ndarray] | None = None,
) -> SourceImage:
    """Build a SourceImage from a decoded, upright Pillow image whose original mode was `mode`
    (`wide`: for a 16-bit colour file, how to read it and the low bytes of its samples)."""
    info = {key: image.info[key] for key in KEPT_INFO if image.info.get(key)}
    if wide is not None:
        rgb, alpha, kind = wide[0].arrays(np.asarray(image), wide[1], image.info)
        return SourceImage(rgb, alpha, mode, kind, info, format, path, dropped, None, notes)
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
