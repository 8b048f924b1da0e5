"""Finding a clip's frames again by their times, as the Ray engine's chunks do: the times read
from the packets, and decoding from the keyframe before any of them gives exactly the frames a
decoding from the start gives, B-frames, open GOPs and AVI's index included."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from style_plugin.video.clips import ClipError, ClipReader, Frame
from tests.video.making import panning_frames, write_clip

#: Keyframes every 8 frames, B-frames between: seeks land mid-clip, frames decode out of order.
SHORT_GOPS = {"g": "8", "bf": "3"}


def decoded_from_the_start(path: Path) -> list[Frame]:
    with ClipReader(path) as reader:
        return [item for item in reader.items() if isinstance(item, Frame)]


@pytest.mark.parametrize(
    ("name", "codec", "options"),
    [
        ("h264.mp4", "libx264", SHORT_GOPS),
        ("open-gop.mp4", "libx264", SHORT_GOPS | {"x264-params": "open-gop=1"}),
        ("h264.mkv", "libx264", SHORT_GOPS),
        # AVI's index finds keyframes by decoding time: a seek lands after frames with B-frames
        ("mpeg4.avi", "mpeg4", {"g": "8", "bf": "2"}),
    ],
)
def test_frames_from_any_time_are_those_of_a_decoding_from_the_start(
    tmp_path, name, codec, options
):
    clip = write_clip(
        tmp_path / name, panning_frames(24, 64, 48, noise=2), codec=codec, options=options
    )
    expected = decoded_from_the_start(clip)
    with ClipReader(clip) as reader:
        times = reader.frame_times()
        assert times == [frame.pts for frame in expected]
        for number in range(4, 18):  # around the keyframes of frames 8 and 16
            found = list(itertools.islice(reader.frames_from(times[number], number), 3))
            assert [frame.pts for frame in found] == times[number : number + 3], number
            for got, wanted in zip(found, expected[number:], strict=False):
                np.testing.assert_array_equal(got.rgb, wanted.rgb)
        to_the_end = list(reader.frames_from(times[5], 5))
        assert [frame.pts for frame in to_the_end] == times[5:]


def test_the_audio_packets_are_those_the_clip_holds(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", panning_frames(12), audio_seconds=0.5)
    with ClipReader(clip) as reader:
        interleaved = [item.pts for item in reader.items() if not isinstance(item, Frame)]
    with ClipReader(clip) as reader:
        alone = [packet.pts for packet in reader.audio_packets()]
    assert alone == interleaved and len(alone) > 10


def test_the_times_of_a_clip_cut_short_are_refused(tmp_path):
    whole = write_clip(tmp_path / "whole.mkv", panning_frames(12))  # Matroska: index first
    clip = tmp_path / "cut.mkv"
    data = whole.read_bytes()
    clip.write_bytes(data[: len(data) // 2] + b"\xff" * 4096)
    with ClipReader(clip) as reader, pytest.raises(ClipError, match="truncated or damaged"):
        reader.frame_times()
