"""The image side of stylizing: any image Pillow reads <-> RGB values for a style model, and back.

A style model consumes RGB in [0, 1]. `open_image` turns a file, a PIL image or a numpy array
into a `SourceImage` (RGB at the source's bit depth, the exact alpha, what kind of image it was,
its ICC profile / DPI / EXIF); `restore` turns the model's RGB back into an image of the input's
kind with the alpha re-attached; `save_image` writes it atomically in the format asked for.
`open_image_bytes` and `encode_image` do the same for bytes that travel between machines.
Files are opened only in `READ_FORMATS`: Pillow's own sniffing would hand an EPS named .png to
Ghostscript.

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
from dataclasses import dataclass, field, replace
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO, TextIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from style_plugin.atomic import atomic_path
from style_plugin.errors import ImageError, one_line

KEPT_INFO = ("icc_profile", "dpi", "exif")
"""Metadata carried from the input to the output (when the output format can store it)."""

READ_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF")
"""The Pillow formats image files are opened in (JPEG includes cameras' multi-picture MPO);
no other decoder (Ghostscript for EPS, PSD, TGA, ...) ever sees a file."""

_GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N"})
_RGB_MODES = frozenset({"RGB", "RGBA", "RGBX", "RGBa", "P", "PA"})
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
# Formats whose Pillow writers take an ICC profile, DPI and EXIF (WebP: no DPI).
_METADATA_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "TIFF"})
_COMMON_SUFFIXES = ".png, .jpg, .webp or .tif"
_READ_NAMES = "JPEG, PNG, WebP, TIFF, BMP and GIF"
# ICC profile classes an image may embed (input, display, output, colour space); not abstract,
# device-link or named-colour profiles, which describe no image's colours.
_EMBEDDABLE_ICC = frozenset({"scnr", "mntr", "prtr", "spac"})
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


def to_float(rgb: np.ndarray) -> np.ndarray:
    """Any array of uint8 / uint16 / float values -> float32 in [0, 1] (float passes through)."""
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float32) / np.float32(255)
    if rgb.dtype == np.uint16:
        return rgb.astype(np.float32) / np.float32(65535)
    if rgb.dtype.kind == "f":
        return rgb.astype(np.float32, copy=False)
    raise TypeError(f"expected uint8, uint16 or float values, got {rgb.dtype}")


def to_batch(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 values -> the model's float32 [1, 3, H, W] batch in [0, 1]."""
    return np.ascontiguousarray(to_float(rgb).transpose(2, 0, 1)[None])


def from_float(values: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """Float values in [0, 1] -> `dtype` (uint8, uint16: rounded half to even; float32), clipped."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.clip(values, 0, 1).astype(dtype)
    top = np.iinfo(dtype).max
    return np.clip(np.rint(values * np.float32(top)), 0, top).astype(dtype)


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
        image = _cmyk_to_rgb(image)
        info.pop("icc_profile", None)  # a CMYK profile does not describe the RGB result
    elif image.mode in _WITH_TRANSPARENCY:
        with_alpha, without = _WITH_TRANSPARENCY[image.mode]
        image = image.convert(with_alpha if image.has_transparency_data else without)
    elif image.mode in _CONVERT_ON_OPEN:
        image = image.convert(_CONVERT_ON_OPEN[image.mode])
    rgb, alpha, value_range = _arrays(image, name)
    kind = "grey" if image.mode in _GREY_MODES else "rgb"
    return SourceImage(rgb, alpha, mode, kind, info, format, path, dropped, value_range, notes)


def _littlecms() -> ModuleType | None:
    """PIL.ImageCms, or None where Pillow was built without LittleCMS (imported when needed)."""
    try:
        from PIL import ImageCms
    except ImportError:
        return None
    return ImageCms


def _cmyk_to_rgb(image: Image.Image) -> Image.Image:
    """CMYK -> RGB through the embedded ICC profile when LittleCMS can use it, else Pillow's formula."""
    icc = image.info.get("icc_profile")
    cms = _littlecms()
    if icc and cms is not None:
        try:
            return cms.profileToProfile(
                image,
                cms.ImageCmsProfile(BytesIO(icc)),
                cms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (OSError, ValueError, cms.PyCMSError):
            pass  # a damaged or unusable profile: fall back to Pillow's formula
    return image.convert("RGB")


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


def restore(source: SourceImage, rgb_out: np.ndarray) -> Image.Image:
    """The model's HxWx3 result -> a PIL image of the source's kind, alpha and metadata re-attached.

    `rgb_out` should have `source.rgb`'s dtype (another of uint8/uint16/float is converted).
    Grey sources give L, I;16 or F (I or F in the source's range for `value_range` sources),
    the luminance by ITU-R 601 weights as Pillow's L conversion. Colour sources give RGB:
    Pillow has no 16-bit or float RGB mode, so those (and CMYK sources) come back as 8-bit RGB.
    Alpha comes back exactly for 8-bit alpha (RGBA, LA); 16-bit or float alpha, and alpha on
    16-bit or float grey, can only be held as 8-bit RGBA / LA and is rounded to 8 bits.
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
            image = _grey_as(image, np.uint8)
        image.putalpha(Image.fromarray(_as_uint8(source.alpha)))
    image.info.update(source.info)
    return image


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


def _grey_as(image: Image.Image, dtype: type) -> Image.Image:
    """An I;16*, I or F image as 8-bit L (uint8) or I;16 (uint16)."""
    return Image.fromarray(from_float(_grey_levels(image), dtype))


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
    TIFF; JPEG drops a fully opaque alpha and refuses real transparency. `quality` applies to
    JPEG (default 95) and WebP (default Pillow's). `name` is the target, for messages.
    """
    if quality is not None and not 1 <= quality <= 100:
        raise ValueError(f"quality must be within 1..100, got {quality}")
    image = _adapt(image, fmt, name)
    buffer = BytesIO()
    try:
        image.save(buffer, format=fmt, **_save_params(image, fmt, quality))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImageError(f"cannot write {name} as {fmt}: {one_line(exc)}") from exc
    return buffer.getvalue()


def check_target(target: Path, input_path: Path | None, overwrite: bool) -> None:
    """ImageError unless `target` may be written: not the input, not a folder, not an
    existing file (unless `overwrite`)."""
    if input_path is not None and _same_file(target, input_path):
        raise ImageError(f"refusing to write onto the input {input_path}")
    if target.is_dir():
        raise ImageError(f"{target} is a directory")
    if target.exists() and not overwrite:
        raise ImageError(f"{target} exists; pass --overwrite to replace it")


def write_encoded(data: bytes, target: Path, *, overwrite: bool = False) -> Path:
    """Write encoded image bytes to `target` atomically (all or nothing) and return it."""
    try:
        with atomic_path(target, overwrite=overwrite) as tmp:
            tmp.write_bytes(data)
    except FileExistsError:
        raise ImageError(f"{target} exists; pass --overwrite to replace it") from None
    except OSError as exc:
        raise ImageError(f"cannot write {target}: {one_line(exc)}") from exc
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
            f"cannot tell which format to write for {target} from its suffix "
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
    """Convert `image` to a mode `fmt` can hold (see `save_image`)."""
    if image.mode in ("I", "F") and fmt == "PNG":
        return _grey_as(image, np.uint16)
    high_bit = image.mode in ("I", "F") or image.mode.startswith("I;16")
    if high_bit and fmt not in ("PNG", "TIFF"):
        image = _grey_as(image, np.uint8)
    if fmt == "JPEG" and image.mode not in ("L", "RGB", "CMYK"):
        grey = image.mode in _GREY_MODES
        if image.has_transparency_data:
            alpha = image.convert("LA" if grey else "RGBA").getchannel("A")
            if alpha.getextrema()[0] < 255:
                raise ImageError(
                    f"JPEG cannot store transparency ({target}); use .png, .webp or .tiff"
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
        params["icc_profile"] = icc if icc and _icc_fits(icc, image.mode) else None
        if image.info.get("exif"):
            params["exif"] = image.info["exif"]
        if image.info.get("dpi") and fmt != "WEBP":
            params["dpi"] = image.info["dpi"]
    if fmt == "JPEG":
        params["quality"] = quality or 95
    elif fmt == "WEBP" and quality is not None:
        params["quality"] = quality
    return params


def _icc_fits(icc: bytes, mode: str) -> bool:
    """Whether an ICC profile may be embedded in an image of `mode`: it parses, an image may
    embed its class, and its colour space is the mode's (an abstract Lab profile never is)."""
    described = _icc_class_and_space(icc)
    return (
        described is not None
        and described[0] in _EMBEDDABLE_ICC
        and described[1] == _colour_space(mode)
    )


def _icc_class_and_space(icc: bytes) -> tuple[str, str] | None:
    """(device class, colour space) of an ICC profile, e.g. ("mntr", "RGB"), read by LittleCMS
    (from the header where Pillow lacks it); None if the profile cannot be parsed."""
    cms = _littlecms()
    if cms is None:
        if len(icc) < 128 or icc[36:40] != b"acsp":  # no ICC header
            return None
        return icc[12:16].decode("latin-1"), icc[16:20].decode("latin-1").strip()
    try:
        profile = cms.ImageCmsProfile(BytesIO(icc)).profile
    except (OSError, ValueError, TypeError, cms.PyCMSError):
        return None
    return profile.device_class, profile.xcolor_space.strip()


def _colour_space(mode: str) -> str | None:
    """The ICC colour space of images of `mode` ("RGB", "GRAY", "CMYK"), None for other modes."""
    if mode in _GREY_MODES:
        return "GRAY"
    if mode in _RGB_MODES:
        return "RGB"
    return "CMYK" if mode == "CMYK" else None


def blend(original: np.ndarray, stylized: np.ndarray, strength: float) -> np.ndarray:
    """`original + strength * (stylized - original)` as float32; 0 gives original, 1 stylized, exactly."""
    if not 0 <= strength <= 1:
        raise ValueError(f"strength must be within 0..1, got {strength}")
    if original.shape != stylized.shape:
        raise ValueError(f"shapes differ: {original.shape} and {stylized.shape}")
    weight = np.float32(strength)
    start, end = original.astype(np.float32), stylized.astype(np.float32)
    return (np.float32(1) - weight) * start + weight * end  # the same blend, exact at 0 and 1


def preserve_colors(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Luminance (BT.601 Y) of `stylized` with the chroma (Cb, Cr) of `original`, float32 in [0, 1].

    Y's weights sum to 1 and Cb's and Cr's to 0, so adding the luma difference to every channel
    of the original changes its Y to the stylized Y and leaves Cb and Cr as they were.
    """
    if original.shape != stylized.shape:
        raise ValueError(f"shapes differ: {original.shape} and {stylized.shape}")
    original = original.astype(np.float32)
    shift = _luma(stylized.astype(np.float32)) - _luma(original)
    return np.clip(original + shift[..., None], 0, 1)


def _luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of float RGB (HxWx3 -> HxW)."""
    return (
        np.float32(0.299) * rgb[..., 0]
        + np.float32(0.587) * rgb[..., 1]
        + np.float32(0.114) * rgb[..., 2]
    )


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
