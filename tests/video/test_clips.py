"""A clip in, a stylized clip out: frames, frame times, rate, rotation and audio kept; odd
sizes and containers without the audio's codec handled; written whole or not at all."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from style_plugin.runtime.stylizer import Stylizer
from style_plugin.video.render import stylize_clip
from tests.support import leftovers
from tests.video.making import clip_facts, panning_frames, write_clip

pytestmark = pytest.mark.bundled  # the bundled model, as `style-plugin stylize` uses it


@pytest.fixture(scope="module")
def paint():
    return functools.partial(Stylizer(device="cpu").stylize_array, style=None)


def test_frames_times_rate_and_audio_are_kept(tmp_path, paint):
    source = write_clip(tmp_path / "in.mp4", panning_frames(10), audio_seconds=0.5)
    result = stylize_clip(source, tmp_path / "out.mp4", paint)
    before, after = clip_facts(source), clip_facts(tmp_path / "out.mp4")
    assert result.frames == after["frames"] == 10
    assert after["times"] == pytest.approx(before["times"])
    assert after["rate"] == before["rate"] == 24
    assert after["size"] == (96, 64)
    assert after["audio"] == "aac"
    assert after["audio_seconds"] == pytest.approx(before["audio_seconds"])
    assert result.notes == []
    assert leftovers(tmp_path) == []


def first_frame(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)


def test_the_frames_are_stylized(tmp_path, paint):
    source = write_clip(tmp_path / "in.mp4", panning_frames(3))
    stylize_clip(source, tmp_path / "out.mp4", paint, hold=None)
    decoded = first_frame(source)
    written = first_frame(tmp_path / "out.mp4")
    from_stylized = np.abs(written - paint(decoded.astype(np.uint8))).mean()
    from_input = np.abs(written - decoded).mean()
    assert from_stylized < from_input / 2  # the stylized frame, through the encoder


def test_rotation_is_kept(tmp_path, paint):
    source = write_clip(tmp_path / "in.mov", panning_frames(4), rotation=90)
    stylize_clip(source, tmp_path / "out.mov", paint)
    assert clip_facts(tmp_path / "out.mov")["rotation"] == 90


def test_uneven_frame_times_are_kept(tmp_path, paint):
    times = [0, 1, 3, 4, 9, 10]  # a variable frame rate: gaps of 1, 2 and 5 frames
    source = write_clip(tmp_path / "in.mkv", panning_frames(6), times=times)
    stylize_clip(source, tmp_path / "out.mkv", paint)
    written = clip_facts(tmp_path / "out.mkv")["times"]
    assert written == pytest.approx([t / 24 for t in times], abs=0.002)


def test_odd_sizes_are_written_one_pixel_larger_with_a_note(tmp_path, paint):
    frames = [frame[:63, :95] for frame in panning_frames(4)]
    source = write_clip(tmp_path / "in.mkv", frames, codec="libx264rgb", pix_fmt="rgb24")
    result = stylize_clip(source, tmp_path / "out.mp4", paint)
    assert clip_facts(tmp_path / "out.mp4")["size"] == (96, 64)
    assert result.notes == [
        "frames of 95x63 are written as 96x64, the last row or column repeated "
        "(the video format holds even sizes only)"
    ]


def test_audio_a_container_cannot_hold_is_left_out_with_a_note(tmp_path, paint):
    source = write_clip(tmp_path / "in.mp4", panning_frames(4), audio_seconds=0.3)
    result = stylize_clip(source, tmp_path / "out.webm", paint)
    facts = clip_facts(tmp_path / "out.webm")
    assert facts["frames"] == 4
    assert facts["audio"] is None
    assert result.notes == [
        "the audio track (aac) is left out: a .webm file cannot hold it as it is "
        "(a .mkv output keeps it)"
    ]


def test_scaling_down_with_max_side(tmp_path, paint):
    source = write_clip(tmp_path / "in.mp4", panning_frames(3))
    stylize_clip(source, tmp_path / "out.mp4", paint, max_side=48)
    assert clip_facts(tmp_path / "out.mp4")["size"] == (48, 32)


def test_the_progress_counts_frames_read_not_what_the_header_claims(tmp_path, paint):
    source = write_clip(tmp_path / "in.mp4", panning_frames(5))
    progress = []
    result = stylize_clip(
        source, tmp_path / "out.mp4", paint, progress=lambda *args: progress.append(args)
    )
    assert result.frames == 5
    assert [(done, expected) for done, expected, _ in progress] == [(n, 5) for n in range(1, 6)]


def test_an_existing_output_is_replaced_only_when_asked(tmp_path, paint):
    source = write_clip(tmp_path / "in.mp4", panning_frames(3))
    target = tmp_path / "out.mp4"
    target.write_bytes(b"mine")
    from style_plugin.video.clips import ClipError

    with pytest.raises(ClipError, match="exists; pass --overwrite"):
        stylize_clip(source, target, paint)
    assert target.read_bytes() == b"mine"
    stylize_clip(source, target, paint, overwrite=True)
    assert clip_facts(target)["frames"] == 3
    assert leftovers(tmp_path) == []


def test_frame_times_that_do_not_run_forward_are_put_in_order(tmp_path):
    from fractions import Fraction

    from style_plugin.video.clips import ClipInfo
    from style_plugin.video.encoding import ClipWriter

    target = tmp_path / "out.mkv"
    info = ClipInfo(target, 64, 48, (64, 48), Fraction(24), Fraction(1, 24), 0, None, None)
    writer = ClipWriter(target, target, info)
    for pts in (0, 3, 2, None, 3):  # back, missing, repeated
        writer.write(np.zeros((48, 64, 3), np.uint8), pts)
    writer.finish()
    assert clip_facts(target)["times"] == pytest.approx(
        [t / 24 for t in (0, 3, 4, 5, 6)], abs=0.002
    )
