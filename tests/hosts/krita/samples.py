"""What the Krita tests stylize: a small RGBA layer, as pixels or as the image Krita opens,
and the format of Krita's usual layers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from style_plugin.hooks.hosts.krita.pixels import LayerFormat

#: 8-bit RGBA, the format of a new layer in Krita.
U8 = LayerFormat("RGBA", "U8")


def sample_pixels(width: int = 40, height: int = 32) -> np.ndarray:
    """RGBA test pixels: a smooth picture, opaque at the border (so that Krita's layer
    bounds are the whole canvas), with a fully transparent hole and a band of alpha 128."""
    y, x = np.mgrid[0:height, 0:width]
    rgba = np.stack(
        [x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height), 255 + 0 * x],
        axis=-1,
    ).astype(np.uint8)
    rgba[12:20, 14:26] = 0
    rgba[4:8, 4:36, 3] = 128
    return rgba


def write_test_image(path: Path) -> np.ndarray:
    """`sample_pixels()` saved as an image file at `path`; returns the pixels."""
    rgba = sample_pixels()
    Image.fromarray(rgba).save(path)
    return rgba
