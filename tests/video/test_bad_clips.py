"""Clips that cannot be stylized, and outputs that must not be written: one clear line
each through `style-plugin stylize`, and nothing left behind."""

from __future__ import annotations

import struct
import sys

import pytest

from tests.support import assert_one_line_error, leftovers, run_cli
from tests.video.making import clip_facts, panning_frames, write_clip

pytestmark = pytest.mark.bundled


def failed_line(capsys, *args: object) -> str:
    """The one failure line of a quiet `stylize` run that exits 1 (the summary goes to stdout)."""
    code, out, err = run_cli(capsys, "stylize", *args, "-q")
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "failed 1" in out
    return lines[0]


def test_garbage_named_as_a_clip(tmp_path, capsys):
    clip = tmp_path / "noise.mp4"
    clip.write_bytes(b"\x00not a video at all" * 100)
    line = failed_line(capsys, clip, "-o", tmp_path / "out.mp4")
    assert line.startswith(f"failed: {clip}: not a readable video (")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noise.mp4"]


def test_a_truncated_clip_leaves_nothing(tmp_path, capsys):
    whole = write_clip(tmp_path / "whole.mp4", panning_frames(12))
    clip = tmp_path / "cut.mp4"
    clip.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # the index is at the end
    line = failed_line(capsys, clip, "-o", tmp_path / "out.mp4")
    assert line.startswith(f"failed: {clip}: not a readable video (")
    assert not (tmp_path / "out.mp4").exists() and leftovers(tmp_path) == []


def test_a_clip_cut_short_in_the_middle_is_refused(tmp_path, capsys):
    whole = write_clip(tmp_path / "whole.mkv", panning_frames(12))  # Matroska: index first
    clip = tmp_path / "cut.mkv"
    data = whole.read_bytes()
    clip.write_bytes(data[: len(data) // 2] + b"\xff" * 4096)
    line = failed_line(capsys, clip, "-o", tmp_path / "out.mkv")
    assert line.startswith(f"failed: {clip}: ")
    assert line.endswith("the file is truncated or damaged")
    assert not (tmp_path / "out.mkv").exists() and leftovers(tmp_path) == []


def test_a_header_claiming_a_huge_duration_is_not_believed(tmp_path, capsys):
    clip = write_clip(tmp_path / "in.mkv", panning_frames(5))
    data = bytearray(clip.read_bytes())
    at = data.find(b"\x44\x89\x88") + 3  # Matroska's segment duration, an 8-byte float
    data[at : at + 8] = struct.pack(">d", 1e15)
    clip.write_bytes(bytes(data))
    code, out, _ = run_cli(capsys, "stylize", clip, "-o", tmp_path / "out.mkv", "-q")
    assert code == 0
    assert out.startswith("stylized 1 clip (5 frames) in ")
    assert clip_facts(tmp_path / "out.mkv")["frames"] == 5


def test_a_claimed_frame_count_is_never_believed_beyond_reason():
    from fractions import Fraction
    from pathlib import Path

    from style_plugin.video.clips import ClipInfo

    def info(frames: int, duration: float | None) -> ClipInfo:
        return ClipInfo(
            Path("c.mp4"), 64, 48, (64, 48), Fraction(24), Fraction(1, 24), frames, duration, None
        )

    assert info(240, 10.0).expected_frames() == 240
    assert info(0, 10.0).expected_frames() == 240
    assert info(2**62, None).expected_frames() is None
    assert info(0, 1e15).expected_frames() is None


def test_a_clip_without_frames(tmp_path, capsys):
    import av
    import numpy as np

    clip = tmp_path / "silent.mkv"
    with av.open(str(clip), "w") as container:  # a video stream that never gets a frame
        video = container.add_stream("libx264", rate=24)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("aac", rate=48_000)
        audio.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 48_000, 0
        container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    line = failed_line(capsys, clip, "-o", tmp_path / "out.mkv")
    assert line == f"failed: {clip}: its video holds no frames"
    assert not (tmp_path / "out.mkv").exists() and leftovers(tmp_path) == []


def test_audio_only(tmp_path, capsys):
    import av
    import numpy as np

    clip = tmp_path / "tone.mkv"
    with av.open(str(clip), "w") as container:
        audio = container.add_stream("flac", rate=8000)
        audio.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts = 8000, 0
        container.mux(audio.encode(frame))
        container.mux(audio.encode(None))
    line = failed_line(capsys, clip, "-o", tmp_path / "out.mkv")
    assert line == f"failed: {clip}: has no video stream"


def test_an_existing_output_is_refused(tmp_path, capsys):
    clip = write_clip(tmp_path / "in.mp4", panning_frames(3))
    (tmp_path / "in-stylized.mp4").write_bytes(b"mine")
    line = failed_line(capsys, clip)
    assert (
        line
        == f"failed: {clip}: {tmp_path / 'in-stylized.mp4'} exists; pass --overwrite to replace it"
    )
    assert (tmp_path / "in-stylized.mp4").read_bytes() == b"mine"


def test_the_input_itself_is_never_the_output(tmp_path, capsys):
    clip = write_clip(tmp_path / "in.mp4", panning_frames(3))
    before = clip.read_bytes()
    line = failed_line(capsys, clip, "-o", clip, "--overwrite")
    assert line == f"failed: {clip}: refusing to write onto the input itself ({clip})"
    assert clip.read_bytes() == before


def test_two_clips_never_share_an_output_even_with_overwrite(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    first = write_clip(tmp_path / "a" / "walk.mp4", panning_frames(3))
    second = write_clip(tmp_path / "b" / "walk.mp4", panning_frames(5))
    out = tmp_path / "out"
    line = failed_line(capsys, first, second, "-o", f"{out}/", "--overwrite")
    assert line == f"failed: {second}: its output {out / 'walk.mp4'} is also the output of {first}"
    assert clip_facts(out / "walk.mp4")["frames"] == 3  # the first clip's, not overwritten


def test_an_output_name_that_is_no_clip(tmp_path, capsys):
    clip = write_clip(tmp_path / "in.mp4", panning_frames(3))
    line = failed_line(capsys, clip, "-o", tmp_path / "out.png")
    assert "name a .mp4, .m4v, .mov, .mkv, .webm, .avi file" in line


def test_frames_over_the_pixel_limit_are_refused_unless_allowed(tmp_path, capsys, monkeypatch):
    from PIL import Image

    clip = write_clip(tmp_path / "in.mp4", panning_frames(2))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 96 * 64 - 1)
    line = failed_line(capsys, clip)
    assert "over the 6143-pixel limit for untrusted files; pass --allow-large" in line
    code, _, _ = run_cli(capsys, "stylize", clip, "--allow-large", "-q")
    assert code == 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--hold", "1.5"], "--hold must be between 0 and 1, got 1.5"),
        (["--crf", "60"], "--crf must be within 0..51, not 60"),
        (["--format", "png"], "--format and --quality are for images"),
        (["--chunk-frames", "8"], "--chunk-frames cuts video clips into parts for --engine ray"),
    ],
)
def test_options_clips_cannot_take(tmp_path, capsys, args, needle):
    clip = write_clip(tmp_path / "in.mp4", panning_frames(2))
    code, _, err = run_cli(capsys, "stylize", clip, *args)
    assert_one_line_error(code, err, needle)


def test_clips_and_images_go_apart(tmp_path, capsys):
    from tests.support import make_photo

    clip = write_clip(tmp_path / "in.mp4", panning_frames(2))
    code, _, err = run_cli(capsys, "stylize", clip, make_photo(tmp_path / "p.png"))
    assert_one_line_error(code, err, "video clips and images go in separate commands")


def test_without_the_video_extra_one_line_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    clip = write_clip(tmp_path / "in.mp4", panning_frames(2))
    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    line = failed_line(capsys, clip)
    assert line == (
        f"failed: {clip}: reading and writing video clips needs PyAV; "
        "install the video extra: pip install 'style-plugin[video]'"
    )


def test_a_clip_that_is_not_there(tmp_path, capsys):
    missing = tmp_path / "gone.mp4"
    assert failed_line(capsys, missing) == f"failed: {missing}: no such file"
    assert list(tmp_path.iterdir()) == []
