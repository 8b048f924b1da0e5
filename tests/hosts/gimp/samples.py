"""What the GIMP tests filter and compare: the filter's values, a style pack installed after
GIMP recorded the procedure, photos with a smooth alpha, and pixels as GEGL hands them over
and as GIMP stores them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from style_plugin.hooks.hosts.gimp import bridge
from tests.support import make_photo

#: The Stylize filter's values the tests run with (filter parameter names).
VALUES = {
    "style": "the_scream",
    "strength": 0.8,
    "preserve_colors": False,
    "scale": 1.0,
    "max_side": 0,
}
#: The style a run picks from the pack installed after GIMP recorded the procedure.
LATE = {"style": "late-starry-night"}


def late_model(style_model: Path, path: Path) -> Path:
    """The two-style test model with its styles renamed ('late-starry-night', 'Late Starry
    Night', ...), saved to `path`: a style pack installed after GIMP recorded the plug-in."""
    import onnx

    model = onnx.load(str(style_model))
    for prop in model.metadata_props:
        if prop.key == "style_plugin.styles":
            styles = json.loads(prop.value)
            late = [{"name": f"late-{s['name']}", "label": f"Late {s['label']}"} for s in styles]
            prop.value = json.dumps(late)
    onnx.save(model, str(path))
    return path


def rgba_photo(path: Path, width: int = 56, height: int = 44) -> Image.Image:
    """A small RGBA photo with a smooth alpha ramp (never fully transparent), saved to `path`."""
    rgb = np.asarray(Image.open(make_photo(path, width, height)).convert("RGB"))
    alpha = np.linspace(64, 255, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    image = Image.fromarray(np.dstack([rgb, np.rint(alpha).astype(np.uint8)]), "RGBA")
    image.save(path)
    return image


def gegl_bytes(image: Image.Image) -> bytes:
    """What GEGL hands the plug-in for an 8-bit RGBA image read as `PIXEL_FORMAT`."""
    return (np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0).tobytes()


def as_uint8(data: bytes, width: int, height: int) -> np.ndarray:
    """What GIMP stores in an 8-bit drawable from `PIXEL_FORMAT` bytes."""
    values = bridge.pixels_from_bytes(data, width, height)
    return np.rint(np.clip(values, 0, 1) * 255).astype(np.uint8)
