"""Clips on the Ray engine, on a real two-node Ray cluster on loopback: cut into chunks that the
nodes decode and paint themselves, held as one sequence and encoded once here. The output holds
the local run's frames, times, rate and audio, and exactly its pictures, held or frame by
frame; a bad chunk fails its clip in one line, with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from style_plugin.video.clips import ClipError
from tests.distributed.test_ray import cluster, stylize  # noqa: F401 (a fixture)
from tests.support import assert_one_line_error, leftovers, run_cli
from tests.video.making import clip_facts, panning_frames, write_clip

pytestmark = pytest.mark.cluster  # Ray clusters on this machine
pytest.importorskip("av")
pytest.importorskip("cv2")

STYLE = "the_scream"
FRAMES = 36
CHUNK_FRAMES = 10
#: Keyframes every 8 frames with B-frames between: chunks seek mid-clip, frames come out of order.
SHORT_GOPS = {"g": "8", "bf": "3"}


def decoded(path: Path) -> list[np.ndarray]:
    """Every frame of a clip, RGB as floats."""
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24").astype(np.float32) for f in container.decode(video=0)]


@dataclass
class Runs:
    """One clip stylized locally and on the cluster, each held and frame by frame."""

    source: Path
    local: Path
    alone: Path
    chunked: Path
    chunked_alone: Path
    notes: list[str]
    frames: int


@pytest.fixture(scope="module")
def connected(cluster) -> Iterator[object]:  # noqa: F811 (the imported fixture)
    """This process connected to the test cluster."""
    from style_plugin.distributed.cluster import connect

    ray = connect(cluster.address)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def runs(connected, cluster, style_model, tmp_path_factory) -> Runs:  # noqa: F811
    from style_plugin.distributed.clips import stylize_clip_on_ray
    from style_plugin.distributed.portable import PortableJob
    from style_plugin.runtime.stylizer import Stylizer
    from style_plugin.video.render import stylize_clip

    folder = tmp_path_factory.mktemp("clips")
    frames = panning_frames(FRAMES, 64, 48, noise=2.0)
    source = write_clip(folder / "in.mp4", frames, audio_seconds=1.5, options=SHORT_GOPS)
    paint = Stylizer(style_model, device="cpu").stylize_array
    local = folder / "local.mp4"
    stylize_clip(source, local, lambda rgb: paint(rgb, STYLE), crf=0)
    alone = folder / "alone.mp4"
    stylize_clip(source, alone, lambda rgb: paint(rgb, STYLE), crf=0, hold=None)
    job = PortableJob.from_file(style_model, style=STYLE)
    chunked, chunked_alone = folder / "chunked.mp4", folder / "chunked-alone.mp4"
    common = {"crf": 0, "chunk_frames": CHUNK_FRAMES, "address": cluster.address}
    result = stylize_clip_on_ray(job, source, chunked, **common)
    stylize_clip_on_ray(job, source, chunked_alone, hold=None, **common)
    return Runs(source, local, alone, chunked, chunked_alone, result.notes, result.frames)


def test_a_chunked_clip_keeps_the_frames_times_rate_and_audio_of_the_local_run(runs):
    local, chunked = clip_facts(runs.local), clip_facts(runs.chunked)
    assert runs.frames == chunked["frames"] == local["frames"] == FRAMES
    assert chunked["times"] == pytest.approx(local["times"])
    assert chunked["rate"] == local["rate"] == 24
    assert chunked["audio"] == local["audio"] == "aac"
    assert chunked["audio_seconds"] == pytest.approx(local["audio_seconds"])
    assert chunked["audio_seconds"] == pytest.approx(1.5, abs=0.05)
    assert len(runs.notes) == 1 and runs.notes[0].startswith("4 chunks stylized on 2 nodes (")
    assert leftovers(runs.local.parent) == []


def test_chunked_frames_are_the_local_runs(runs):
    """Lossless encodes (--crf 0): painted on the nodes and held here in order, the frames are
    the local run's exactly, across the chunks' seams too."""
    for local, chunked in ((runs.local, runs.chunked), (runs.alone, runs.chunked_alone)):
        for t, (a, b) in enumerate(zip(decoded(local), decoded(chunked), strict=True)):
            np.testing.assert_array_equal(b, a, err_msg=f"frame {t} of {chunked.name}")
    assert not np.array_equal(decoded(runs.local)[-1], decoded(runs.alone)[-1])  # held


def corrupted(clip: Path, number: int) -> Path:
    """A copy of `clip` (as bad.EXT) whose frame `number`, in the order shown, is garbage that
    the decoder refuses; the container is whole, so only decoding finds it."""
    import av

    with av.open(str(clip)) as container:
        packets = sorted((p.pts, p.pos, p.size) for p in container.demux(video=0) if p.size)
    _, position, size = packets[number]
    data = bytearray(clip.read_bytes())
    data[position + 4 : position + size] = b"\xff" * (size - 4)
    bad = clip.with_name("bad" + clip.suffix)
    bad.write_bytes(bytes(data))
    return bad


def test_a_bad_chunk_fails_its_clip_in_the_local_engines_line_and_writes_nothing(
    cluster,  # noqa: F811
    style_model,
    tmp_path,
):
    write_clip(tmp_path / "good.mp4", panning_frames(24, 64, 48), audio_seconds=1.0)
    corrupted(
        write_clip(tmp_path / "whole.mp4", panning_frames(24, 64, 48), options=SHORT_GOPS), 13
    )
    common = ["good.mp4", "bad.mp4", "--model", style_model, "--style", STYLE]
    local = stylize(*common, "-o", "local/", cwd=tmp_path)
    ray_engine = ["--engine", "ray", "--address", cluster.address, "--chunk-frames", "8"]
    on_ray = stylize(*common, "-o", "ray/", *ray_engine, cwd=tmp_path)
    assert local.returncode == on_ray.returncode == 1, on_ray.stderr
    failed = [line for line in on_ray.stderr.splitlines() if line.startswith("failed:")]
    assert failed == [line for line in local.stderr.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1, on_ray.stderr
    assert failed[0].startswith("failed: bad.mp4: damaged after frame 12 (")
    assert (
        on_ray.stdout.startswith("stylized 1 clip (24 frames) in ") and "failed 1" in on_ray.stdout
    )
    assert "note: good.mp4: 3 chunks stylized on 2 nodes (" in on_ray.stderr
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == ["good.mp4"]
    assert clip_facts(tmp_path / "ray" / "good.mp4")["frames"] == 24
    assert leftovers(tmp_path) == []


def test_a_node_without_the_clip_says_the_clip_must_be_on_shared_storage(
    connected, style_model, tmp_path
):
    from style_plugin.distributed.chunks import plan_chunks
    from style_plugin.distributed.clips import ClipSource, stylize_chunk
    from style_plugin.distributed.portable import PortableJob

    job = PortableJob.from_file(style_model, style=STYLE)
    elsewhere = ClipSource(tmp_path / "elsewhere.mp4", max_side=None, allow_large=False, held=True)
    done = stylize_chunk(job, elsewhere, plan_chunks([0, 1, 2], 3)[0])
    assert done.frames == []
    assert done.failure.startswith("not found on the Ray node ")
    assert done.failure.endswith("so it must be at the same path on each (shared storage)")


def test_animations_and_bad_chunk_lengths_are_refused_before_any_work(
    style_model, tmp_path, capsys
):
    from style_plugin.distributed.clips import stylize_clip_on_ray
    from style_plugin.distributed.portable import PortableJob

    job = PortableJob.from_file(style_model, style=STYLE)
    with pytest.raises(
        ClipError, match=r"in.gif: animations \(GIF, WebP\) stylize on this machine"
    ):
        stylize_clip_on_ray(job, tmp_path / "in.gif", tmp_path / "out.mp4")
    code, _, err = run_cli(capsys, "stylize", "in.mp4", "--engine", "ray", "--chunk-frames", "0")
    assert_one_line_error(code, err, "--chunk-frames must be a whole number of at least 1, not 0")
