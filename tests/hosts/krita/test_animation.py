"""Stylize on every keyframe of an animated layer: the sequence of keyframes without Krita
(hooks/hosts/krita/keyframes.py), then the whole path in the real Krita on a display of its
own (drivers/animation_driver.py makes the animated layer with Krita's own frame actions and
drives the dialog; where Krita is missing these tests are skipped with the reason printed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.errors import StylePluginError
from style_plugin.hooks.filters import Filter
from style_plugin.hooks.hosts.krita.keyframes import KeyframeSequence
from style_plugin.hooks.hosts.krita.pixels import LayerFormat, filter_layer_bytes
from style_plugin.video.defaults import DEFAULT_HOLD
from style_plugin.video.libraries import INSTALL_HINT
from style_plugin.video.sequence import TemporalBlend
from tests.hosts.krita.real_krita import install_driver, krita_home, require, run_bounded
from tests.hosts.krita.samples import U8, sample_pixels
from tests.support import on_a_display

PARAMS = {"style": "the_scream", "strength": 0.8}
#: Where the test layer has keyframes; the frames between hold the one before.
TIMES = [0, 2, 5, 6]
WIDTH, HEIGHT = 64, 48
#: Levels (of 255) a stylized colour may differ from the sequence code's where it is visible.
LEVELS = 1


def moving_frames(count: int = len(TIMES)) -> list[np.ndarray]:
    """RGBA frames of one scene moving 2 px right a frame: a textured picture with a
    transparent hole and a half-transparent band (sample_pixels), all moving together."""
    base = sample_pixels(WIDTH + 2 * count, HEIGHT)
    y, x = np.mgrid[0:HEIGHT, 0 : WIDTH + 2 * count]
    texture = ((np.sin(x * 0.7) * np.cos(y * 0.5) + 1) * 60).astype(np.uint8)
    base[..., 1] = np.maximum(base[..., 1], texture)
    return [base[:, 2 * count - 2 * i : 2 * count - 2 * i + WIDTH].copy() for i in range(count)]


def layer_bytes(rgba: np.ndarray, fmt: LayerFormat = U8) -> bytes:
    """RGBA pixels as the bytes of a Krita layer in `fmt`."""
    return fmt.encode(rgba[..., :3], rgba[..., 3])


def sequence_code(filter: Filter, frames: list[np.ndarray], hold: float) -> list[np.ndarray]:
    """What the video room's sequence code makes of `frames`: each stylized, its colours
    blended with the previous result along the motion (TemporalBlend), its alpha kept."""
    blend = TemporalBlend(hold)
    results = []
    for rgba in frames:
        stylized = np.asarray(filter.apply(rgba, PARAMS).convert("RGB"))
        results.append(np.dstack([blend.blend(rgba[..., :3], stylized), rgba[..., 3]]))
    return results


def colour_difference(result: np.ndarray, expected: np.ndarray) -> int:
    """The largest colour difference where `expected` is visible."""
    visible = expected[..., 3] > 0
    difference = np.abs(result[..., :3].astype(int) - expected[..., :3].astype(int))
    return int(difference[visible].max(initial=0))


def test_animation_keyframes_without_hold_are_each_filtered_as_a_still_layer(stylize: Filter):
    frames = moving_frames(3)
    sequence = KeyframeSequence(stylize, U8, WIDTH, HEIGHT, PARAMS, hold=0.0)
    for rgba in frames:
        data = layer_bytes(rgba)
        assert sequence.stylize(data) == filter_layer_bytes(
            stylize, data, WIDTH, HEIGHT, U8, PARAMS
        )


def test_animation_keyframes_hold_strokes_as_the_sequence_code_does(stylize: Filter):
    """The keyframes as one sequence: the sequence code's colours, the layer's alpha exactly
    times the selection; later keyframes differ from frame-by-frame results (strokes held)."""
    frames = moving_frames()
    selection = np.full((HEIGHT, WIDTH), 255, np.uint8)
    selection[:, :10] = 0
    selection[:, 10:20] = 128
    sequence = KeyframeSequence(stylize, U8, WIDTH, HEIGHT, PARAMS, 0.7, selection.tobytes())
    expected = sequence_code(stylize, frames, 0.7)
    alone = sequence_code(stylize, frames, 0.0)
    for index, rgba in enumerate(frames):
        result = U8.decode(sequence.stylize(layer_bytes(rgba)), WIDTH, HEIGHT)[0]
        alpha = (rgba[..., 3].astype(int) * selection + 127) // 255
        np.testing.assert_array_equal(result[..., 3], alpha)
        np.testing.assert_array_equal(result[..., :3], expected[index][..., :3])
        if index:
            assert colour_difference(expected[index], alone[index]) > LEVELS


def test_animation_keyframes_without_opencv_say_how_to_install_it_in_one_line(
    stylize: Filter, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 now fails as when missing
    with pytest.raises(StylePluginError) as caught:
        KeyframeSequence(stylize, U8, WIDTH, HEIGHT, PARAMS)
    message = str(caught.value)
    assert "\n" not in message and INSTALL_HINT in message, message


@pytest.mark.host
def test_krita_stylizes_all_frames_of_an_animated_layer(
    request, tmp_path: Path, user_models_dir: Path, stylize: Filter
):
    """In the real Krita: a plain layer's dialog offers no Frames; an animated layer's offers
    all its keyframes (current frame by default), which become a new animated layer with
    keyframes at the same times only, each the sequence code's result, in one undo step;
    Cancel during the second keyframe leaves the image as it was; Stylize Again repeats it."""
    require(request, "krita", "Xvfb")
    env = krita_home(tmp_path, user_models_dir)
    install_driver(tmp_path / "home", "animation_driver")
    Image.new("RGBA", (WIDTH, HEIGHT), (255, 255, 255, 255)).save(tmp_path / "in.png")
    frames = moving_frames()
    report_path = tmp_path / "report.json"
    config = {
        "report": str(report_path),
        "params": PARAMS,
        "hold": 0.5,
        "times": TIMES,
        "current_time": 3,
        "width": WIDTH,
        "height": HEIGHT,
        "frames": [layer_bytes(rgba).hex() for rgba in frames],
    }
    env["ANIMATION_DRIVER"] = json.dumps(config)
    log = run_bounded(on_a_display(["krita", "--nosplash", "in.png"]), env, tmp_path, 600)
    assert report_path.exists(), log[-3000:]
    report = json.loads(report_path.read_text())
    assert report["error"] is None, (report["error"], log[-3000:])
    assert report["steps"] == [
        *["start", "plain dialog", "made", "stylized", "undone", "cancelled", "again", "done"]
    ]
    assert "Traceback" not in log, log[-3000:]

    assert report["plain_frames"] is False  # a layer that is not animated: no Frames choice
    first, cancelled = report["dialogs"]
    assert first["frame_choices"] == [
        "Current frame only",
        f"All frames of this layer ({len(TIMES)} keyframes)",
    ]
    assert first["default_frames"] == "current"
    assert first["hold_default"] == DEFAULT_HOLD and not first["hold_enabled_at_first"]
    assert first["hold_enabled_for_all"]

    before = report["keyframes_before"]
    assert sorted(map(int, before)) == TIMES
    inputs = [U8.decode(bytes.fromhex(before[str(time)]), WIDTH, HEIGHT)[0] for time in TIMES]
    for made, rgba in zip(inputs, frames, strict=True):
        np.testing.assert_array_equal(made, rgba)  # Krita holds the frames as the test made them

    # One new animated layer, keyframes at the same times only, each the sequence code's.
    assert report["layers_after"] == [*report["layers_before"], "Animated (Stylize: The Scream)"]
    result = report["result_keyframes"]
    assert report["result_animated"] and sorted(map(int, result)) == TIMES
    assert report["result_properties"] == [255, "normal", True]
    expected = sequence_code(stylize, inputs, 0.5)
    alone = sequence_code(stylize, inputs, 0.0)
    for index, time in enumerate(TIMES):
        stylized = U8.decode(bytes.fromhex(result[str(time)]), WIDTH, HEIGHT)[0]
        np.testing.assert_array_equal(stylized[..., 3], inputs[index][..., 3])
        assert colour_difference(stylized, expected[index]) <= LEVELS, time
        assert colour_difference(stylized, inputs[index]) > LEVELS, time  # it changed
        if index:
            assert colour_difference(stylized, alone[index]) > LEVELS, time  # strokes held
    # The animated layer, its frames in between, the image's time and documents untouched.
    assert report["keyframes_after"] == before
    assert report["time_after"] == 3 and report["documents_after"] == 1
    assert report["undo"] == "Undo Add Layer"
    assert report["layers_after_undo"] == report["layers_before"]

    # Cancel during the second keyframe: nothing changed.
    assert "Frame 2 of 4" in report["cancelled_at"]
    assert report["layers_after_cancel"] == report["layers_before"]
    assert report["keyframes_after_cancel"] == before
    assert report["time_after_cancel"] == 3 and report["documents_after_cancel"] == 1
    assert report["undo_unchanged"]
    assert cancelled["default_frames"] == "current"

    # Stylize Again: all frames again, the same result.
    assert report["layers_after_again"] == report["layers_after"]
    assert report["again_keyframes"] == result
    assert report["plain_after"] == report["plain_before"]
