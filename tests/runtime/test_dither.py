"""The dither added to what the model sees (style_plugin/runtime/dither.py): fixed by the
pixel's place, fine, unpatterned, and never written into the caller's picture."""

from __future__ import annotations

import sys

import numpy as np

from style_plugin.runtime.dither import DITHER_LEVELS, dither_pattern, model_batch
from style_plugin.runtime.pixels import to_batch
from tests.support import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import flaws


def test_the_pattern_is_fixed_by_the_pixels_place():
    whole = dither_pattern(0, 0, 96, 128, 4.0)
    np.testing.assert_array_equal(dither_pattern(40, 52, 30, 50, 4.0), whole[:, 40:70, 52:102])
    np.testing.assert_array_equal(dither_pattern(0, 0, 96, 128, 4.0), whole)
    assert not np.array_equal(whole[0], whole[1])  # channels differ


def test_the_pattern_is_fine_zero_mean_noise_of_the_asked_strength():
    noise = dither_pattern(0, 0, 512, 512, 4.0) * 255
    assert abs(noise.mean()) < 0.05
    assert noise.std() == np.float32(noise.std()) and abs(noise.std() - 4.0) < 0.05
    assert np.abs(noise).max() < 4.0 * np.sqrt(6)  # triangular: bounded
    channels = noise.reshape(3, -1)
    assert np.abs(np.corrcoef(channels)[np.triu_indices(3, 1)]).max() < 0.01
    neighbours = np.corrcoef(noise[0, :, :-1].ravel(), noise[0, :, 1:].ravel())[0, 1]
    assert abs(neighbours) < 0.01
    grey = np.repeat(noise[:1].transpose(1, 2, 0) / 255 + 0.5, 3, axis=2)
    assert flaws.lattice(grey)[0] < 10  # no period stands out


def test_the_model_batch_adds_it_without_touching_the_picture():
    rgb = np.full((20, 30, 3), 0.5, np.float32)
    kept = rgb.copy()
    batch = model_batch(rgb[4:], 4, 0, DITHER_LEVELS)
    np.testing.assert_array_equal(rgb, kept)
    expected = dither_pattern(4, 0, 16, 30, DITHER_LEVELS)
    np.testing.assert_allclose(batch[0] - 0.5, expected, atol=1e-6)
    tiny = np.full((1, 1, 3), 0.5, np.float32)  # a batch that may share its memory
    model_batch(tiny, levels=DITHER_LEVELS)
    assert (tiny == 0.5).all()
    np.testing.assert_array_equal(model_batch(rgb), to_batch(rgb))  # 0 levels: none
