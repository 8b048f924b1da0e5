"""The quality benchmark's rivals (benchmarks/quality.py) on tiny made-up images: G'MIC's
Stylize paints the photo from the painting, keeps its outputs for later runs, and is skipped
with a reason where the `gmic` package is missing."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.support import REPO

sys.path.insert(0, str(REPO / "benchmarks"))

import quality


def painting(size: int) -> np.ndarray:
    """A 'painting': yellow diagonal bands on a dark blue ground."""
    y, x = np.mgrid[0:size, 0:size]
    bands = ((x + y) // 6) % 3 == 0
    image = np.zeros((size, size, 3), np.uint8)
    image[:] = (20, 30, 90)
    image[bands] = (230, 200, 60)
    return image


def photo(width: int, height: int) -> np.ndarray:
    """A 'photo': a smooth grey-green gradient with a red square."""
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    image = np.stack([80 + 100 * x, 140 - 60 * y, 90 + 40 * x * y], axis=-1)
    image[height // 4 : height // 2, width // 2 : width * 3 // 4] = (200, 30, 30)
    return image.astype(np.uint8)


def test_gmic_stylizes_the_photo_at_its_size_and_keeps_the_output(tmp_path):
    pytest.importorskip("gmic", reason="the gmic package is not installed (pip install gmic)")
    method = quality.gmic_method({"bands": painting(64)}, tmp_path)
    assert method.reason is None and method.styles == ("bands",)
    content = photo(64, 48)

    out, seconds = method.run(content, "bands")

    assert out.shape == content.shape and out.dtype == np.uint8 and seconds > 0
    assert np.abs(out.astype(float) - content).mean() > 20  # painted over, not the photo back
    kept = list((tmp_path / "bands").glob("gmic-*.png"))
    assert len(kept) == 1
    again, seconds_again = method.run(content, "bands")  # read back, not computed again
    assert np.array_equal(again, out) and seconds_again == pytest.approx(seconds, abs=1e-3)


def test_gmic_missing_gives_a_reason_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gmic", None)  # `import gmic` raises ImportError
    method = quality.gmic_method({"bands": painting(64)}, tmp_path)
    assert method.run is None
    assert "gmic is not installed" in method.reason
