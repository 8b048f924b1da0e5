"""The video benchmark (benchmarks/video.py) on a tiny clip: its flicker table, and its figure of
two frames and what changed between them beyond the motion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.video.defaults import DEFAULT_HOLD
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
    assert (
        "| frame by frame |" in run.stdout and f"| temporal, hold {DEFAULT_HOLD:g} |" in run.stdout
    )
    with Image.open(figure) as image:
        assert image.width > 3 * 96 and image.height > 3 * 54


@pytest.mark.bundled
def test_the_stills_of_both_modes_are_where_the_blind_sheets_look(tmp_path):
    import json

    import video_stills

    if not video_stills.DATASET_PHOTOS.is_dir():
        pytest.skip("the dataset's held-out photos are not here")
    video_stills.main([str(tmp_path), "--photos", "1", "--size", "64", "--frames", "3"])
    report = json.loads((tmp_path / "quality.json").read_text(encoding="utf-8"))
    stem = Path(report["photos"][0]).stem
    for style in report["paintings"]:
        frame, temporal = (
            np.asarray(Image.open(tmp_path / style / f"{stem}_{m}.jpg"))
            for m in ("frame", "temporal")
        )
        assert frame.shape == temporal.shape == (42, 64, 3)
        assert np.abs(frame.astype(int) - temporal).mean() > 0  # the held strokes differ
