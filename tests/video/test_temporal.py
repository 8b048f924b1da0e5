"""Strokes held along the motion: on a panning clip the temporal mode leaves far less flicker
than stylizing frame by frame; the flow follows a known shift; a cut starts afresh."""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest

from style_plugin.runtime.options import OptionError
from style_plugin.runtime.stylizer import Stylizer
from style_plugin.video.motion import MotionEstimator
from style_plugin.video.sequence import TemporalBlend, stylize_frames
from tests.video.making import panning_frames

STEP = 2  # pixels the pan moves per frame: the exact motion, to measure flicker against


@pytest.fixture(scope="module")
def paint():
    return functools.partial(Stylizer(device="cpu").stylize_array, style=None)


def warping_error(frames: list[np.ndarray]) -> float:
    """Mean absolute difference (0..255) between each frame and the previous one moved by the
    pan's exact motion (frame t at x shows what frame t-1 showed at x + STEP)."""
    differences = [
        np.abs(now[:, :-STEP].astype(float) - before[:, STEP:].astype(float)).mean()
        for before, now in itertools.pairwise(frames)
    ]
    return float(np.mean(differences))


@pytest.mark.bundled
def test_the_temporal_mode_cuts_the_flicker_of_a_pan(paint):
    frames = panning_frames(8, 96, 64, step=STEP, noise=3.0)
    own = warping_error(list(stylize_frames(frames, paint, hold=None))) - warping_error(frames)
    held = warping_error(list(stylize_frames(frames, paint))) - warping_error(frames)
    assert own > 5  # the model answers noise and motion with other strokes each frame
    assert held < 0.5 * own


@pytest.mark.bundled
def test_a_scene_cut_starts_afresh(paint):
    frames = panning_frames(3, step=STEP) + panning_frames(3, step=STEP, name="coffee.jpg")
    blend = TemporalBlend()
    stylized = [paint(frame) for frame in frames]
    outputs = [blend.blend(frame, own) for frame, own in zip(frames, stylized, strict=True)]
    assert blend.cuts == 1
    np.testing.assert_array_equal(outputs[3], stylized[3])  # nothing of the other scene
    assert not np.array_equal(outputs[4], stylized[4])  # held again within the new scene


def test_hold_zero_is_frame_by_frame():
    frames = panning_frames(3, step=STEP)
    stylized = [255 - frame for frame in frames]
    blend = TemporalBlend(0)
    for frame, own in zip(frames, stylized, strict=True):
        np.testing.assert_array_equal(blend.blend(frame, own), own)


@pytest.mark.parametrize("hold", [-0.1, 1.5, math.nan, "0.5"])
def test_hold_is_a_number_from_0_to_1(hold):
    with pytest.raises(OptionError, match="hold must be between 0 and 1"):
        TemporalBlend(hold)


def test_the_flow_follows_a_known_shift():
    motion = MotionEstimator()
    before, after = (motion.flow_frame(f) for f in panning_frames(2, 128, 96, step=3))
    found = motion.between(before, after, (128, 96))
    middle = (slice(16, -16), slice(16, -16))  # away from the edge the pan uncovers
    assert np.median(found.flow[middle][..., 0]) == pytest.approx(3, abs=0.3)
    assert np.median(found.flow[middle][..., 1]) == pytest.approx(0, abs=0.3)
    assert found.reliable[middle].mean() > 0.9
    assert found.reliable[:, -2:].mean() < 0.5  # uncovered: it was outside the previous frame


def test_unrelated_frames_are_not_trusted():
    motion = MotionEstimator()
    one, two = (
        motion.flow_frame(panning_frames(1, name=name)[0]) for name in ("chelsea.jpg", "coffee.jpg")
    )
    assert motion.between(one, two, (96, 64)).reliable.mean() < 0.15


def local_contrast(image: np.ndarray) -> float:
    """Mean local standard deviation (17 px squares) of an HxWx3 image, in 0..1 units."""
    import cv2

    picture = image.astype(np.float32) / (255 if image.dtype == np.uint8 else 1)
    mean = cv2.blur(picture, (17, 17))
    return float(np.sqrt(cv2.blur((picture - mean) ** 2, (17, 17)).sum(axis=-1)).mean())


def test_strokes_held_over_many_frames_neither_blur_nor_ring():
    """A painter whose strokes move with the scene (here: the frame itself) over a long pan
    of sub-pixel steps: what is held stays what was painted, resampled once, not 40 times."""
    frames = panning_frames(40, 128, 64, step=1.3)
    held = list(stylize_frames(frames, lambda frame: frame, hold=1.0))
    assert local_contrast(held[-1]) == pytest.approx(local_contrast(frames[-1]), rel=0.05)
    middle = (slice(8, -8), slice(8, -8))
    difference = np.abs(held[-1][middle].astype(float) - frames[-1][middle].astype(float))
    assert difference.mean() < 6  # less than a pixel's drift on this textured photo


@pytest.mark.bundled
def test_held_strokes_stay_as_crisp_as_a_frame_s_own(paint):
    frames = panning_frames(8, 96, 64, step=STEP, noise=3.0)
    own = list(stylize_frames(frames, paint, hold=None))
    held = list(stylize_frames(frames, paint))
    assert local_contrast(held[-1]) > 0.95 * local_contrast(own[-1])
