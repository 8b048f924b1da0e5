"""16 bits per colour channel, which Pillow's colour modes cannot hold (RGB and RGBA are 8-bit).

Reading: Pillow decodes a 16-bit colour PNG or TIFF to the high byte of each sample. Decoded
once more with the byte order of its raw mode swapped, the same decoder gives the low bytes
(for grey with alpha, as an 8-bit RGBA raw mode: every byte), so the file goes through
Pillow's own decoders and guards only. `wide_colour` says, from the header alone, whether an
opened image is such a file and how its low bytes are read.

Carrying: Pillow images hold 8 bits, so `restore` attaches the 16-bit values to the 8-bit
image it returns (`attach_wide`); `attached_wide` gives them back while the image's pixels are
still the values rounded to 8 bits (an image edited since is written as it now is).

Writing: `encode_wide` writes such values as a 16-bit PNG (pypng) or TIFF (tifffile).
"""

from __future__ import annotations

import re
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import numpy as np
from PIL import Image

__all__ = [
    "WIDE_FORMATS",
    "WideColour",
    "attach_wide",
    "attached_wide",
    "encode_wide",
    "wide_colour",
]

WIDE_FORMATS = frozenset({"PNG", "TIFF"})
"""The output formats that hold 16 bits per colour channel."""

# Raw modes of 16-bit colour samples with straight (not premultiplied) alpha, and their byte
# order: B(ig), L(ittle) or N(ative).
_WIDE_RAWMODE = re.compile(r"(RGB|RGBA|RGBX|R|G|B|A);16([BLN])")
_OTHER_ORDER = {"B": "L", "L": "B", "N": "B" if sys.byteorder == "little" else "L"}
# PNG's 16-bit grey with alpha: Pillow reads it as RGBA from this raw mode.
_GREY_ALPHA = "LA;16B"
# The Pillow mode that 8-bit values of 2, 3 or 4 channels are held in.
_NARROW_MODES = {2: "LA", 3: "RGB", 4: "RGBA"}
_ATTRIBUTE = "style_plugin_wide_values"
# The bytes of PNG's signature and header chunk, which come first in every PNG file.
_PNG_HEADER = 8 + 25
# zlib's level for 16-bit PNG: their low bytes are mostly noise, which the default level 6
# compresses no smaller, in several times the time.
_PNG_COMPRESSION = 3


@dataclass(frozen=True)
class WideColour:
    """How a 16-bit colour image's low bytes are read: the raw mode that decodes them for each
    raw mode of its tiles, and whether it is grey with alpha (whose low-byte pass reads every
    byte: grey high, grey low, alpha high, alpha low)."""

    low_rawmodes: tuple[tuple[str, str], ...]
    grey: bool = False

    def low_byte_tiles(self, tiles: Sequence[Any]) -> list[Any]:
        """`tiles` (of the same file, opened again) set to decode the low bytes."""
        low = dict(self.low_rawmodes)
        return [tile._replace(args=_with_rawmode(tile.args, low[_rawmode(tile)])) for tile in tiles]

    def arrays(
        self, high: np.ndarray, low: np.ndarray, info: Mapping[str, Any]
    ) -> tuple[np.ndarray, np.ndarray | None, str]:
        """(rgb, alpha, kind) at 16 bits, as `SourceImage` holds them, from the two decoded
        passes (HxWxC uint8 each) and the file's `info`. An RGB file's transparent colour
        (PNG's tRNS) makes alpha 0 exactly where the 16-bit values are that colour."""
        if self.grey:
            grey, alpha = _joined(low[..., 0], low[..., 1]), _joined(low[..., 2], low[..., 3])
            return np.repeat(grey[..., None], 3, axis=2), alpha, "grey"
        rgb = _joined(high[..., :3], low[..., :3])
        if high.shape[2] == 4:
            return rgb, _joined(high[..., 3], low[..., 3]), "rgb"
        key = info.get("transparency")
        if not (isinstance(key, tuple) and len(key) == 3):
            return rgb, None, "rgb"
        keyed = (rgb == np.array(key, np.uint16)).all(axis=2)
        return rgb, np.where(keyed, 0, 65535).astype(np.uint16), "rgb"


def wide_colour(image: Image.Image) -> WideColour | None:
    """How to read the low bytes of `image`, opened and not yet decoded, if it is a 16-bit
    colour image that Pillow would read at 8 bits; None for any other image."""
    if image.mode not in ("RGB", "RGBA") or not image.tile:
        return None
    rawmodes = sorted({_rawmode(tile) for tile in image.tile})
    if rawmodes == [_GREY_ALPHA]:
        return WideColour(((_GREY_ALPHA, "RGBA"),), grey=True)
    low = {raw: _low_rawmode(raw) for raw in rawmodes}
    if None in low.values():
        return None
    return WideColour(tuple((raw, str(other)) for raw, other in low.items()))


def _joined(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """16-bit values from their high and low bytes (in place: no temporary copies)."""
    values = high.astype(np.uint16)
    values <<= 8
    values |= low
    return values


def _rawmode(tile: Any) -> str:
    """The raw mode a tile is decoded from (its parameters: the raw mode alone, or first)."""
    args = tile.args
    if isinstance(args, tuple) and args:
        args = args[0]
    return args if isinstance(args, str) else ""


def _with_rawmode(args: Any, rawmode: str) -> Any:
    """A tile's parameters with `rawmode` in place of its raw mode."""
    return rawmode if isinstance(args, str) else (rawmode, *args[1:])


def _low_rawmode(rawmode: str) -> str | None:
    """The raw mode that unpacks the low byte of each sample that `rawmode` unpacks the high
    byte of (the same layout read with the other byte order); None if there is none."""
    found = _WIDE_RAWMODE.fullmatch(rawmode)
    if found is None:
        return None
    return f"{found[1]};16{_OTHER_ORDER[found[2]]}"


# ---- carrying ---------------------------------------------------------------------------------


def attach_wide(image: Image.Image, values: np.ndarray) -> Image.Image:
    """Attach HxWxC uint16 `values` to `image`, their 8-bit rendering, and return it."""
    setattr(image, _ATTRIBUTE, values)
    return image


def attached_wide(
    image: Image.Image, narrow: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray | None:
    """The 16-bit values attached to `image`, or None: none attached, or its pixels are no
    longer `narrow(values)` (the image was edited, or converted, since)."""
    values = getattr(image, _ATTRIBUTE, None)
    if not isinstance(values, np.ndarray):
        return None
    height, width, channels = values.shape
    if image.size != (width, height) or image.mode != _NARROW_MODES.get(channels):
        return None
    return values if np.array_equal(np.asarray(image), narrow(values)) else None


# ---- writing ----------------------------------------------------------------------------------


def encode_wide(
    values: np.ndarray,
    fmt: str,
    *,
    icc_profile: bytes | None = None,
    dpi: tuple[float, float] | None = None,
    exif: bytes | None = None,
) -> bytes:
    """HxWxC uint16 values (C: 2 grey and alpha, 3 RGB, 4 RGBA) as a 16-bit PNG or TIFF file,
    with the ICC profile and DPI, and EXIF in PNG (tifffile writes no EXIF)."""
    if fmt == "PNG":
        return _png(values, icc_profile, dpi, exif)
    if fmt == "TIFF":
        return _tiff(values, icc_profile, dpi)
    raise ValueError(f"{fmt} holds no 16-bit colour; use one of {sorted(WIDE_FORMATS)}")


def _png(
    values: np.ndarray, icc: bytes | None, dpi: tuple[float, float] | None, exif: bytes | None
) -> bytes:
    """A 16-bit PNG from pypng, with iCCP and eXIf chunks put in after its header."""
    import png

    height, width, channels = values.shape
    density: dict[str, Any] = {}
    if dpi:  # PNG stores pixels per metre
        density = {
            "x_pixels_per_unit": round(dpi[0] / 0.0254),
            "y_pixels_per_unit": round(dpi[1] / 0.0254),
            "unit_is_meter": True,
        }
    writer = png.Writer(
        width,
        height,
        greyscale=channels == 2,
        alpha=channels in (2, 4),
        bitdepth=16,
        compression=_PNG_COMPRESSION,
        **density,
    )
    written = BytesIO()
    writer.write_packed(written, values.astype(">u2").reshape(height, -1).view(np.uint8))
    out = BytesIO()
    out.write(written.getbuffer()[:_PNG_HEADER])
    if icc:
        png.write_chunk(out, b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc))
    if exif:
        png.write_chunk(out, b"eXIf", exif.removeprefix(b"Exif\x00\x00"))
    out.write(written.getbuffer()[_PNG_HEADER:])
    return out.getvalue()


def _tiff(values: np.ndarray, icc: bytes | None, dpi: tuple[float, float] | None) -> bytes:
    """A 16-bit uncompressed TIFF from tifffile (as Pillow writes 8-bit ones)."""
    import tifffile

    channels = values.shape[2]
    out = BytesIO()
    tifffile.imwrite(
        out,
        values,
        photometric="minisblack" if channels == 2 else "rgb",
        planarconfig="contig",
        extrasamples=("unassalpha",) if channels in (2, 4) else None,
        iccprofile=icc,
        resolution=dpi,
        resolutionunit="INCH" if dpi else None,
        metadata=None,
    )
    return out.getvalue()
