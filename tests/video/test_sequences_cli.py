"""`style-plugin stylize` with clips and numbered frames: where the outputs go, the summary,
the notes, and folders of frames run in numeric order as one sequence."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.runtime.stylizer import Stylizer
from style_plugin.video.frames import natural_key
from style_plugin.video.sequence import stylize_frames
from tests.support import leftovers, run_cli
from tests.video.making import clip_facts, panning_frames, write_clip

pytestmark = pytest.mark.bundled


def test_numbers_in_names_sort_as_numbers():
    names = ["f10.png", "f2.png", "f1.png", "F3.png", "g1.png"]
    assert sorted(names, key=lambda n: natural_key(Path(n))) == [
        "f1.png",
        "f2.png",
        "F3.png",
        "f10.png",
        "g1.png",
    ]


def test_a_clip_comes_out_beside_it(tmp_path, capsys):
    clip = write_clip(tmp_path / "walk.mp4", panning_frames(6), audio_seconds=0.3)
    code, out, err = run_cli(capsys, "stylize", clip)
    assert code == 0, err
    assert out.startswith("stylized 1 clip (6 frames) in ")
    assert "frames/s" in out
    facts = clip_facts(tmp_path / "walk-stylized.mp4")
    assert (facts["frames"], facts["audio"]) == (6, "aac")
    assert leftovers(tmp_path) == []


def test_clips_into_a_folder_frame_by_frame(tmp_path, capsys):
    clips = [write_clip(tmp_path / f"c{i}.mov", panning_frames(3, seed=i)) for i in (1, 2)]
    out_dir = tmp_path / "out"
    code, out, err = run_cli(capsys, "stylize", *clips, "-o", f"{out_dir}/", "--no-temporal", "-q")
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["c1.mov", "c2.mov"]
    assert out.startswith("stylized 2 clips (6 frames) in ")


def test_a_scene_cut_is_noted(tmp_path, capsys):
    frames = panning_frames(3) + panning_frames(3, name="coffee.jpg")
    clip = write_clip(tmp_path / "two.mkv", frames)
    code, _, err = run_cli(capsys, "stylize", clip)
    assert code == 0
    assert f"note: {clip}: 1 scene cut; the strokes start afresh after each" in err


def test_a_folder_of_frames_runs_in_numeric_order_keeping_names_and_formats(tmp_path, capsys):
    frames = panning_frames(11, noise=2.0)
    folder = tmp_path / "frames"
    folder.mkdir()
    for number, frame in enumerate(frames, start=1):  # frame_1 .. frame_11: not zero-padded
        suffix = ".tif" if number == 5 else ".png"
        Image.fromarray(frame).save(folder / f"frame_{number}{suffix}")
    out_dir = tmp_path / "out"
    code, _, err = run_cli(capsys, "stylize", folder, "-o", f"{out_dir}/", "--temporal", "-q")
    assert code == 0, err
    names = {p.name for p in out_dir.iterdir()}
    assert names == {p.name for p in folder.iterdir()}
    paint = functools.partial(Stylizer(device="cpu").stylize_array, style=None)
    in_order = list(stylize_frames(frames, paint))
    for number, expected in enumerate(in_order, start=1):
        suffix = ".tif" if number == 5 else ".png"
        with Image.open(out_dir / f"frame_{number}{suffix}") as written:
            assert written.format == ("TIFF" if suffix == ".tif" else "PNG")
            np.testing.assert_array_equal(np.asarray(written), expected)


def test_temporal_frames_need_this_machine(tmp_path, capsys):
    from tests.support import assert_one_line_error, make_photo

    photo = make_photo(tmp_path / "f1.png")
    code, _, err = run_cli(capsys, "stylize", photo, "--temporal", "--engine", "ray")
    assert_one_line_error(code, err, "--temporal stylizes frames in order on this machine")
