"""What the GIMP 3 plug-in needs that does not need GIMP: arguments from a filter's schema,
pixels between GEGL's byte layout and the filter, the dialog's preview, progress fractions.

A `choice` parameter (the style) is registered as a string argument, not a `Gimp.Choice`:
GIMP records a procedure's arguments when it first queries the plug-in, and a recorded
choice would refuse a style installed later. The dialog lists the choices read when it opens,
and the filter refuses an unknown name with its own error.

The plug-in's Stylize procedure (style-plugin-stylize/stylize_procedure.py) stays a thin
layer over these functions, so everything here is tested without GIMP. It reads the
selection's bounding box as non-premultiplied sRGB float RGBA (`PIXEL_FORMAT`), gives the
filter 8-bit RGB (the filter's output is 8-bit RGB), and writes the result back in the same
float format with the original alpha untouched, so alpha keeps the drawable's own
precision. The preview is the filter's own `Filter.preview` (as Krita's dialog shows it) of
the region read shrunk to what that preview works on, so its strokes have the size of the
final result's.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from style_plugin.contract import printable
from style_plugin.hooks.filters import Filter, Param, Progress
from style_plugin.hooks.stylize_filter import PREVIEW_WORK_SIDE

__all__ = [
    "FILTER_NAME",
    "MENU_PATH",
    "PIXEL_FORMAT",
    "PREVIEW_SIDE",
    "PROCEDURE_NAME",
    "Argument",
    "argument_for",
    "argument_name",
    "arguments_for",
    "filter_input",
    "filter_values",
    "menu_label",
    "offered_value",
    "pixels_from_bytes",
    "pixels_to_bytes",
    "preview_read_scale",
    "preview_region",
    "preview_size",
    "progress_fraction",
    "region_image",
    "stylize_region",
]

#: The registered filter the plug-in shows.
FILTER_NAME = "stylize"
#: The procedure's name in GIMP's procedural database (canonical: lowercase and dashes).
PROCEDURE_NAME = "plug-in-style-plugin-stylize"
#: Where the menu entry goes: Filters > Artistic.
MENU_PATH = "<Image>/Filters/Artistic"
#: The babl format pixels travel in: perceptual (sRGB) RGB, straight alpha, 32-bit float.
PIXEL_FORMAT = "R'G'B'A float"
#: The longest side of the preview in the dialog, in pixels (as in Krita's dialog).
PREVIEW_SIDE = 320

#: Argument names every GIMP image procedure already has.
RESERVED_NAMES = frozenset({"run-mode", "image", "drawables"})
_VALID_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_INT_RANGE = (-(2**31), 2**31 - 1)  # a GIMP int argument is a C int
_FLOAT_RANGE = (-sys.float_info.max, sys.float_info.max)  # a C double


@dataclass(frozen=True)
class Argument:
    """One GIMP procedure argument made from one filter parameter.

    `kind` names the GIMP call that adds it (`double`, `int`, `boolean`, `string`); `name` is
    the GIMP argument name, `param` the filter's parameter name; `label` carries GIMP's
    mnemonic escaping; `choices` are the (value, label) pairs the dialog offers for a string
    argument made from a `choice` parameter (the ones installed when it was made).
    """

    kind: str
    name: str
    param: str
    label: str
    description: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[tuple[str, str], ...] = ()


def argument_name(param_name: str) -> str:
    """The GIMP argument name for a filter parameter (`preserve_colors` -> `preserve-colors`).

    GObject property names are a letter then letters, digits and dashes; the three names
    every image procedure has are taken.
    """
    name = param_name.replace("_", "-")
    if not _VALID_NAME.fullmatch(name) or name in RESERVED_NAMES:
        raise ValueError(f"filter parameter {param_name!r} cannot be a GIMP argument name")
    return name


def _label(text: str) -> str:
    """A label for GIMP widgets: escaped (style labels come from model files), and literal
    underscores doubled, as underscores mark mnemonics there."""
    return printable(text).replace("_", "__")


def _bounds(param: Param, limits: tuple[float, float]) -> tuple[float, float]:
    """The parameter's range, open ends filled with the widest range GIMP accepts."""
    low = limits[0] if param.minimum is None else param.minimum
    high = limits[1] if param.maximum is None else param.maximum
    return low, high


def argument_for(param: Param) -> Argument:
    """The GIMP argument for one filter parameter; a `choice` parameter becomes a `string`
    argument carrying its choices (none when no style is installed: the run says so)."""
    common = {
        "name": argument_name(param.name),
        "param": param.name,
        "label": _label(param.label),
        "description": param.description or param.label,
    }
    if param.type == "float":
        low, high = _bounds(param, _FLOAT_RANGE)
        return Argument(
            "double",
            default=float(param.default),
            minimum=float(low),
            maximum=float(high),
            **common,
        )
    if param.type == "int":
        low, high = _bounds(param, _INT_RANGE)
        low, high = max(int(low), _INT_RANGE[0]), min(int(high), _INT_RANGE[1])
        return Argument("int", default=int(param.default), minimum=low, maximum=high, **common)
    if param.type == "bool":
        return Argument("boolean", default=bool(param.default), **common)
    choices = tuple((c.value, _label(c.label)) for c in param.choices)
    default = "" if param.default is None else str(param.default)
    return Argument("string", default=default, choices=choices, **common)


def arguments_for(filter_: Filter) -> list[Argument]:
    """The procedure's arguments, one per filter parameter, in the schema's order."""
    return [argument_for(param) for param in filter_.params()]


def offered_value(argument: Argument, value: str) -> str:
    """The value a choice list opens on: `value` (the config's) if still offered, else the
    default (the first installed style), so the list never opens on a removed style."""
    return value if value in dict(argument.choices) else argument.default


def filter_values(arguments: list[Argument], get: Callable[[str], Any]) -> dict[str, Any]:
    """The filter's parameters from the procedure's config (`get` reads one argument)."""
    return {argument.param: get(argument.name) for argument in arguments}


def menu_label(filter_: Filter) -> str:
    """The menu entry: the filter's label with its first letter as mnemonic, and "..." as
    GIMP marks entries that open a dialog."""
    return f"_{_label(filter_.label)}..."


def pixels_from_bytes(data: bytes, width: int, height: int) -> np.ndarray:
    """GEGL's bytes in `PIXEL_FORMAT` -> a height x width x 4 float32 array."""
    expected = width * height * 4 * 4
    if len(data) != expected:
        raise ValueError(
            f"expected {expected} bytes for {width}x{height} RGBA float, got {len(data)}"
        )
    return np.frombuffer(data, dtype=np.float32).reshape(height, width, 4)


def _to_8_bits(values: np.ndarray) -> np.ndarray:
    """Float values in [0, 1] as 8-bit: rounded, values outside clipped, NaN as 0."""
    values = np.nan_to_num(values, nan=0.0)
    return np.rint(np.clip(values, 0.0, 1.0) * 255.0).astype(np.uint8)


def filter_input(rgba: np.ndarray) -> np.ndarray:
    """The RGB the filter gets: 8-bit, rounded, values outside [0, 1] clipped."""
    return _to_8_bits(rgba[..., :3])


def pixels_to_bytes(result: Image.Image, rgba: np.ndarray) -> bytes:
    """The filter's result with `rgba`'s own alpha, as bytes in `PIXEL_FORMAT`.

    A result of another size (the filter's `max_side` worked on a smaller copy) is scaled
    back to the region with Lanczos.
    """
    height, width = rgba.shape[:2]
    rgb_image = result.convert("RGB")
    if rgb_image.size != (width, height):
        rgb_image = rgb_image.resize((width, height), Image.Resampling.LANCZOS)
    rgb = np.asarray(rgb_image, dtype=np.float32) / np.float32(255.0)
    return np.concatenate([rgb, rgba[..., 3:]], axis=2).astype(np.float32).tobytes()


def preview_read_scale(width: int, height: int) -> float:
    """The scale to read a region at for the preview: at most PREVIEW_WORK_SIDE a side, the
    most the filter's preview works on, so a large layer is never read whole."""
    return min(1.0, PREVIEW_WORK_SIDE / max(width, height, 1))


def preview_size(width: int, height: int) -> tuple[int, int]:
    """The preview's (width, height) for a region: its shape, at most PREVIEW_SIDE a side."""
    scale = min(1.0, PREVIEW_SIDE / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def region_image(data: bytes, width: int, height: int) -> Image.Image:
    """A region read from GEGL in `PIXEL_FORMAT` as an 8-bit RGBA image."""
    return Image.fromarray(_to_8_bits(pixels_from_bytes(data, width, height)), "RGBA")


def preview_region(
    filter_: Filter, region: Image.Image, size: tuple[int, int], values: dict[str, Any]
) -> Image.Image:
    """The filter's preview of `region` (read at `preview_read_scale`) at `size`, with the
    region's own alpha: what the dialog shows for `values`."""
    result = filter_.preview(region.convert("RGB"), values, max_side=PREVIEW_SIDE)
    result = result.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    result.putalpha(region.getchannel("A").resize(size, Image.Resampling.LANCZOS))
    return result


def progress_fraction(done: int, total: int) -> float:
    """The filter's progress (done, total) as the fraction GIMP's progress bar takes."""
    if total <= 0:
        return 0.0
    return min(1.0, max(0.0, done / total))


def stylize_region(
    filter_: Filter,
    data: bytes,
    width: int,
    height: int,
    values: dict[str, Any],
    progress: Progress | None = None,
) -> bytes:
    """Run `filter_` on a region read from GEGL and return the bytes to write back."""
    rgba = pixels_from_bytes(data, width, height)
    result = filter_.apply(filter_input(rgba), values, progress=progress)
    return pixels_to_bytes(result, rgba)
