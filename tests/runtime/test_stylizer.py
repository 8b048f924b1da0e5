"""The Python API (style_plugin/runtime/stylizer.py): `stylize` and `Stylizer` on paths, PIL
images and arrays of every kind and size, styles, mixes, strength and colours."""

from __future__ import annotations

import threading
import tracemalloc

import numpy as np
import pytest
from PIL import Image

import style_plugin
from style_plugin.errors import StylePluginError
from style_plugin.runtime.stylizer import Stylizer
from tests.support import sample_photo


def test_stylize_takes_paths_pil_images_and_arrays_alike(style_model, tmp_path):
    photo = sample_photo()
    photo.save(tmp_path / "photo.png")
    by_path = style_plugin.stylize(tmp_path / "photo.png", model=style_model)
    by_pil = style_plugin.stylize(photo, model=style_model)
    by_array = style_plugin.stylize(np.asarray(photo), model=style_model)
    assert by_path.mode == "RGB" and by_path.size == photo.size
    assert np.array_equal(np.asarray(by_path), np.asarray(by_pil))
    assert np.array_equal(np.asarray(by_pil), np.asarray(by_array))
    assert np.abs(np.asarray(by_pil, np.float32) - np.asarray(photo)).mean() > 10  # changed


def test_styles_differ_and_a_mix_lies_between(style_model):
    stylizer = Stylizer(style_model)
    photo = np.asarray(sample_photo())
    a = stylizer.stylize_array(photo, "starry-night").astype(np.float32)
    b = stylizer.stylize_array(photo, "the_scream").astype(np.float32)
    mix = stylizer.stylize_array(photo, "starry-night=1,the_scream=1").astype(np.float32)
    assert np.abs(a - b).mean() > 5
    assert np.abs(mix - a).mean() < np.abs(b - a).mean()
    assert np.abs(mix - b).mean() < np.abs(b - a).mean()


def test_strength_blends_with_the_original(style_model):
    stylizer = Stylizer(style_model)
    photo = np.asarray(sample_photo())
    full = stylizer.stylize_array(photo, strength=1.0).astype(np.float32)
    assert np.array_equal(stylizer.stylize_array(photo, strength=0.0), photo)
    half = stylizer.stylize_array(photo, strength=0.5).astype(np.float32)
    np.testing.assert_allclose(half, (full + photo) / 2, atol=1.0)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(StylePluginError, match="strength must be between 0 and 1"):
            stylizer.stylize_array(photo, strength=bad)


def _chroma(rgb: np.ndarray) -> np.ndarray:
    r, g, b = np.moveaxis(rgb.astype(np.float32), -1, 0)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return np.stack([b - y, r - y])


def test_preserve_colors_keeps_the_photos_colours(style_model):
    stylizer = Stylizer(style_model)
    photo = np.asarray(sample_photo())
    plain = stylizer.stylize_array(photo)
    kept = stylizer.stylize_array(photo, preserve_colors=True)
    assert (
        np.abs(_chroma(kept) - _chroma(photo)).mean()
        < 0.3 * np.abs(_chroma(plain) - _chroma(photo)).mean()
    )


def test_alpha_greyscale_and_16_bit_keep_their_kind(style_model):
    stylizer = Stylizer(style_model)
    rgba = sample_photo().convert("RGBA")
    alpha = np.tile(np.arange(96, dtype=np.uint8)[None, :] * 2, (64, 1))
    rgba.putalpha(Image.fromarray(alpha))
    out = stylizer.stylize(rgba)
    assert out.mode == "RGBA" and np.array_equal(np.asarray(out)[..., 3], alpha)
    assert stylizer.stylize(sample_photo().convert("L")).mode == "L"
    grey16 = Image.fromarray(np.asarray(sample_photo().convert("L"), np.uint16) * 257)
    out16 = stylizer.stylize(grey16)
    assert out16.mode.startswith("I;16") and np.asarray(out16).max() > 255


@pytest.mark.parametrize("size", [(1, 1), (1, 20000), (7, 5), (3, 300)])
def test_any_size_works_even_below_the_models_minimum(style_model, size):
    height, width = size
    rgb = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = Stylizer(style_model).stylize(rgb)
    assert out.size == (width, height)


def test_max_side_scales_down_first(style_model):
    out = Stylizer(style_model).stylize(sample_photo(96, 64), max_side=48)
    assert out.size == (48, 32)


def test_max_side_decodes_a_large_jpeg_at_a_fraction_of_its_size(style_model, tmp_path):
    width, height = 1600, 1000
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    pixels = np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "big.jpg", quality=85)
    stylizer = Stylizer(style_model)
    tracemalloc.start()  # numpy's arrays are traced: a full-size decode holds 4.8 MB in them
    try:
        out = stylizer.stylize(tmp_path / "big.jpg", max_side=200)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.size == (200, 125)
    assert peak < width * height * 3  # decoded at 1/8 scale: the model's run is most of it


def test_one_stylizer_serves_many_threads(style_model):
    stylizer = Stylizer(style_model, tile_size=64, overlap=16)
    photos = [np.asarray(sample_photo(80 + 8 * i, 72)) for i in range(4)]
    expected = [stylizer.stylize_array(p, "the_scream") for p in photos]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = stylizer.stylize_array(photos[i], "the_scream")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(results[i], expected[i]) for i in range(4))
