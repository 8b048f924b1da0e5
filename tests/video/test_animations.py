"""Animated GIF and WebP: stylized as clips, frame times kept, written back as animations (or
as a video); a still GIF stays an image, and a damaged animation is one line."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.runtime.stylizer import Stylizer
from style_plugin.video.animations import is_animation
from style_plugin.video.clips import ClipError
from style_plugin.video.render import stylize_clip
from tests.support import leftovers, run_cli
from tests.video.making import clip_facts, panning_frames

pytestmark = pytest.mark.bundled

DURATIONS = [80, 160, 80, 240, 120]


@pytest.fixture(scope="module")
def paint():
    return functools.partial(Stylizer(device="cpu").stylize_array, style=None)


def write_animation(path: Path, durations: list[int] = DURATIONS) -> Path:
    frames = [Image.fromarray(f) for f in panning_frames(len(durations))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path


def frames_and_durations(path: Path) -> tuple[list[np.ndarray], list[int]]:
    with Image.open(path) as image:
        frames, durations = [], []
        for index in range(image.n_frames):
            image.seek(index)
            frames.append(np.asarray(image.convert("RGB")).astype(int))
            durations.append(image.info["duration"])
    return frames, durations


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_an_animation_comes_back_animated_with_its_frame_times(tmp_path, paint, suffix):
    source = write_animation(tmp_path / f"in{suffix}")
    result = stylize_clip(source, tmp_path / f"out{suffix}", paint, hold=None)
    before, _ = frames_and_durations(source)
    after, durations = frames_and_durations(tmp_path / f"out{suffix}")
    assert result.frames == len(after) == len(DURATIONS)
    assert durations == DURATIONS
    for shown, frame in zip(after, before, strict=True):  # stylized, through the encoding
        stylized = paint(frame.astype(np.uint8)).astype(int)
        assert np.abs(shown - stylized).mean() < np.abs(shown - frame).mean() / 2
    assert leftovers(tmp_path) == []


def test_an_animated_webp_becomes_a_video_at_its_frame_times(tmp_path, paint):
    source = write_animation(tmp_path / "in.webp")
    stylize_clip(source, tmp_path / "out.mp4", paint)
    facts = clip_facts(tmp_path / "out.mp4")
    starts = np.cumsum([0, *DURATIONS[:-1]]) / 1000
    assert facts["frames"] == len(DURATIONS)
    assert facts["times"] == pytest.approx(list(starts), abs=0.002)


def test_a_video_becomes_an_animation_without_its_sound(tmp_path, paint):
    from tests.video.making import write_clip

    source = write_clip(tmp_path / "in.mp4", panning_frames(4), audio_seconds=0.3)
    result = stylize_clip(source, tmp_path / "out.gif", paint)
    frames, durations = frames_and_durations(tmp_path / "out.gif")
    assert len(frames) == 4 and set(durations) == {40}  # 24 frames/s, in GIF's hundredths
    assert result.notes == ["the audio track is left out: a GIF animation holds no sound"]


def test_the_command_line_stylizes_an_animation_beside_it(tmp_path, capsys):
    source = write_animation(tmp_path / "wave.gif")
    code, out, err = run_cli(capsys, "stylize", source)
    assert code == 0, err
    assert out.startswith(f"stylized 1 clip ({len(DURATIONS)} frames) in ")
    assert frames_and_durations(tmp_path / "wave-stylized.gif")[1] == DURATIONS


def test_a_still_gif_and_one_frame_asked_for_stay_images(tmp_path, capsys):
    still = tmp_path / "still.gif"
    Image.fromarray(panning_frames(1)[0]).save(still)
    assert not is_animation(still) and is_animation(write_animation(tmp_path / "a.gif"))
    code, _, err = run_cli(capsys, "stylize", tmp_path / "a.gif", "-o", tmp_path / "first.png")
    assert code == 0, err
    assert Image.open(tmp_path / "first.png").size == (96, 64)
    code, _, err = run_cli(capsys, "stylize", still, "-o", tmp_path / "still-out.png")
    assert code == 0, err


def test_a_damaged_animation_is_one_line_and_leaves_nothing(tmp_path, paint):
    source = write_animation(tmp_path / "in.gif")
    data = source.read_bytes()
    source.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ClipError, match=r"in\.gif") as caught:
        stylize_clip(source, tmp_path / "out.gif", paint, hold=None)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out.gif").exists() and leftovers(tmp_path) == []
