"""The video benchmark (benchmarks/video.py) on a tiny clip: its flicker table, and its figure of
two frames and what changed between them beyond the motion."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.support import REPO

pytest.importorskip("cv2")
sys.path.insert(0, str(REPO / "benchmarks"))

import video  # benchmarks/ is not a package


def test_the_motion_difference_of_a_pan_is_zero_and_of_a_change_is_not():
    rng = np.random.default_rng(0)
    scene = rng.integers(0, 256, (40, 80, 3)).astype(np.uint8)
    previous, frame = scene[:, :60], scene[:, 4:64]  # the view moved 4 px to the right
    to_previous = np.array([[1.0, 0, 4], [0, 1, 0], [0, 0, 1]])
    difference, seen = video.motion_difference(frame, previous, to_previous)
    assert seen.any() and difference[seen].max() < 1e-3
    changed = frame.copy()
    changed[10:20, 10:20] = 255 - changed[10:20, 10:20]
    difference, seen = video.motion_difference(changed, previous, to_previous)
    assert (
        difference[10:20, 10:20].mean() > 50 and difference[30:, 30:][seen[30:, 30:]].max() < 1e-3
    )


def test_the_benchmark_measures_and_draws_a_tiny_clip(tmp_path):
    figure = tmp_path / "flicker.jpg"
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "video.py"),
            *("--size", "96", "--frames", "8", "--timing-sizes", "none"),
            *("--results", "none", "--figure", str(figure)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "| frame by frame |" in run.stdout and "| temporal, hold 0.7 |" in run.stdout
    with Image.open(figure) as image:
        assert image.width > 3 * 96 and image.height > 3 * 54
