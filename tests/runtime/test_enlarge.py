"""The filter around the model (runtime/scale.py, runtime/pixels.py, runtime/tiling.py) against
a plain float64 reference: the photo shrunk, the model's painting enlarged bicubically, the
photo's detail added in lightness, colours kept, strength blended, rounded to the photo's type.

The reference enlarges six planes (the painting's three and the small copy's three), with
Pillow's bicubic weights written out here; the runtime enlarges three, in bands on threads.
Each option must agree with it within one level of 255 on small made-up photos, odd sizes too.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from style_plugin.runtime.scale import shrink, working_size
from style_plugin.runtime.stylizer import Stylizer

#: The strokes as on a 128 px image: small photos still take the path that enlarges.
SCALE = 8.0
LUMA = np.array([0.299, 0.587, 0.114])
TOP = {np.uint8: 255, np.uint16: 65535, np.float32: 1.0}
OPTIONS = [
    pytest.param({"strength": 1.0}, id="model-alone"),
    pytest.param({}, id="default-strength"),
    pytest.param({"strength": 0.35}, id="strength-0.35"),
    pytest.param({"strength": 1.0, "preserve_colors": True}, id="preserve-colours"),
    pytest.param({"strength": 0.6, "preserve_colors": True}, id="preserve-colours-0.6"),
]


def _photo(height: int, width: int, dtype: type, seed: int = 0) -> np.ndarray:
    """Smooth colour fields with pixel-scale noise (detail that the small copy cannot hold),
    and pure black and white patches (values the finishing must clip)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    fields = np.stack([np.sin(7 * x + 2 * y), np.cos(5 * y - 3 * x), x * y], axis=-1)
    values = np.clip(0.5 + 0.35 * fields + rng.normal(0, 0.08, fields.shape), 0, 1)
    values[: height // 5, : width // 6] = 0.0
    values[-height // 5 :, -width // 6 :] = 1.0
    return (
        (values * TOP[dtype]).round().astype(dtype) if dtype != np.float32 else values.astype(dtype)
    )


def _bicubic(small: int, large: int) -> np.ndarray:
    """A large x small matrix enlarging one axis as Pillow's bicubic does: a = -0.5, pixel
    centres aligned, weights of pixels beyond the edge left out and the rest rescaled to 1."""
    centres = (np.arange(large) + 0.5) * small / large
    x = np.abs(np.arange(small) + 0.5 - centres[:, None])
    a = -0.5
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = (((x - 5) * x + 8) * x - 4) * a
    weights = np.where(x < 1, near, np.where(x < 2, far, 0.0))
    return weights / weights.sum(axis=1, keepdims=True)


def _enlarge(small: np.ndarray, height: int, width: int) -> np.ndarray:
    rows, cols = _bicubic(small.shape[0], height), _bicubic(small.shape[1], width)
    return np.stack([rows @ small[..., c] @ cols.T for c in range(3)], axis=-1)


def _finished(photo: np.ndarray, stylized: np.ndarray, options: dict) -> np.ndarray:
    """Colours kept, then strength, as the runtime finishes a result: float64 in [0, 1]."""
    if options.get("preserve_colors"):
        stylized = np.clip(photo + ((stylized - photo) @ LUMA)[..., None], 0, 1)
    strength = options.get("strength", 0.8)
    return (1 - strength) * photo + strength * stylized


def _as(values: np.ndarray, dtype: type) -> np.ndarray:
    if dtype == np.float32:
        return values
    return np.rint(values * TOP[dtype])


def _reference(photo: np.ndarray, small: np.ndarray, painting: np.ndarray, options: dict):
    """The enlarged painting plus the photo's detail (the photo less its own enlarged small
    copy, in lightness), clipped, finished and rounded: every step in float64."""
    height, width = photo.shape[:2]
    full = photo.astype(np.float64) / TOP[photo.dtype.type]
    detail = (full - _enlarge(small.astype(np.float64), height, width)) @ LUMA
    painted = _enlarge(painting.astype(np.float64), height, width)
    stylized = np.clip(painted + detail[..., None], 0, 1)
    return _as(_finished(full, stylized, options), photo.dtype.type)


def _levels_apart(result: np.ndarray, reference: np.ndarray) -> float:
    """The largest difference, in levels of 255."""
    top = TOP[result.dtype.type]
    return float(np.abs(result.astype(np.float64) - reference).max()) * 255 / top


@pytest.fixture(scope="module")
def stylizer(style_model):
    return Stylizer(style_model, device="cpu")


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize(
    "dtype", [np.uint8, np.uint16, np.float32], ids=["8-bit", "16-bit", "float"]
)
@pytest.mark.parametrize("size", [(157, 203), (131, 64)], ids=["157x203", "131x64"])
def test_the_enlarged_result_matches_a_plain_reference(stylizer, options, dtype, size):
    photo = _photo(*size, dtype)
    working = working_size(*size, SCALE)
    assert working is not None  # the path that paints small and enlarges
    small = shrink(photo, working)
    painting = stylizer.stylize_array(small, "the_scream", strength=1.0, scale=0)
    reference = _reference(photo, small, painting, options)
    result = stylizer.stylize_array(photo, "the_scream", scale=SCALE, **options)
    assert result.dtype == photo.dtype and result.shape == photo.shape
    assert _levels_apart(result, reference) <= 1
    assert np.mean(np.abs(result.astype(np.float64) - reference) > 0.5 * TOP[dtype] / 255) < 1e-3


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_bands_on_threads_give_the_same_picture(style_model, threads):
    photo = _photo(333, 517, np.uint8, seed=4)
    one = Stylizer(style_model, device="cpu", threads=1)
    expected = one.stylize_array(photo, "starry-night", scale=SCALE, preserve_colors=True)
    several = Stylizer(style_model, device="cpu", threads=threads)
    result = several.stylize_array(photo, "starry-night", scale=SCALE, preserve_colors=True)
    assert np.array_equal(result, expected)


def test_the_small_copy_is_each_channel_shrunk_on_its_own():
    photo = _photo(301, 443, np.uint8, seed=2)
    small = shrink(photo, (75, 111))
    planes = [
        np.asarray(Image.fromarray(np.ascontiguousarray(photo[..., c])).resize((111, 75), 1))
        for c in range(3)
    ]
    assert np.array_equal(small, np.stack(planes, axis=-1) / np.float32(255))


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16], ids=["8-bit", "16-bit"])
def test_full_resolution_tiles_are_finished_as_the_reference(style_model, options, dtype):
    """scale 0: the model over the whole photo in tiles, then the same finishing (the
    reference starts from the model's result rounded to the photo's type: half a level off
    at most, which finishing never enlarges)."""
    stylizer = Stylizer(style_model, device="cpu", tile_size=64)
    photo = _photo(181, 243, dtype, seed=3)
    painting = stylizer.stylize_array(photo, "the_scream", strength=1.0, scale=0)
    full, painted = (values.astype(np.float64) / TOP[dtype] for values in (photo, painting))
    reference = _as(_finished(full, painted, options), dtype)
    result = stylizer.stylize_array(photo, "the_scream", scale=0, **options)
    assert _levels_apart(result, reference) <= 1
