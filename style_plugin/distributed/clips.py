"""`style-plugin stylize clip.mp4 --engine ray`: a clip cut into chunks of consecutive frames,
each stylized by a Ray task, and encoded once on this machine.

This machine (the driver) reads the clip's packets, not its frames, to learn each frame's time,
and cuts the frames into chunks of `chunk_frames`. A Ray task per chunk opens the clip itself
(so every node reads it at the same path: shared storage), seeks to the keyframe before the
chunk and decodes forward. The temporal blend starts `overlap` frames before the chunk, so
the chunk's strokes are already held when it begins. Held strokes last as long as the motion
can be followed, so a chunk's strokes are not those of one run from the clip's start; over
the overlap, the driver dissolves the chunk before into the new one, frame by frame, so the
seam shows no jump. The stylized chunks come back in order; the driver encodes them once,
with the audio copied as the local engine does, into a temporary file renamed onto the
target when the clip is complete.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from style_plugin.atomic import atomic_path
from style_plugin.contract import printable
from style_plugin.distributed.chunks import (
    DEFAULT_CHUNK_FRAMES,
    DEFAULT_OVERLAP,
    Chunk,
    check_chunk_frames,
    plan_chunks,
)
from style_plugin.distributed.cluster import connect
from style_plugin.distributed.files import node_line, spread_task
from style_plugin.distributed.portable import PortableJob
from style_plugin.runtime.report import failure_reason
from style_plugin.runtime.settings import StyleSettings
from style_plugin.video.clips import ClipError, ClipReader, Frame
from style_plugin.video.defaults import (
    ANIMATION_SUFFIXES,
    DEFAULT_CRF,
    DEFAULT_HOLD,
    check_crf,
    check_hold,
)
from style_plugin.video.encoding import ClipWriter
from style_plugin.video.render import ClipProgress, ClipResult, check_clip_target
from style_plugin.video.sequence import TemporalBlend

__all__ = ["stylize_chunk", "stylize_clip_on_ray"]


@dataclass(frozen=True)
class ClipSource:
    """The clip a chunk task reads and how: its absolute path, the temporal blend's `hold`
    (None: frame by frame), and the reader's `max_side` and `allow_large`."""

    path: Path
    hold: float | None
    max_side: int | None
    allow_large: bool


@dataclass
class StylizedChunk:
    """What a chunk task sends back: its stylized frames with their times, those of the
    overlap before it (`lead_in`), the scene cuts found within it, why it failed (None: it
    did not), and the node that did the work."""

    frames: list[Frame] = field(default_factory=list)
    lead_in: list[Frame] = field(default_factory=list)
    cuts: int = 0
    failure: str | None = None
    node: str = ""


def stylize_chunk(job: PortableJob, clip: ClipSource, chunk: Chunk) -> StylizedChunk:
    """One chunk on a worker: its frames decoded from the clip, stylized, and blended, the
    blend starting over the overlap before it."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    if not clip.path.is_file():
        return StylizedChunk(
            failure=f"not found on the Ray node {node[:8]}: a clip on Ray is read by the nodes "
            "themselves, so it must be at the same path on each (shared storage)",
            node=node,
        )
    settings = StyleSettings.from_call(job.settings, max_side=None)  # the reader scales down
    paint = functools.partial(job.stylizer().stylize_array, style=job.style, settings=settings)
    blend = TemporalBlend(clip.hold) if clip.hold is not None else None
    done = StylizedChunk(node=node)
    try:
        with ClipReader(clip.path, max_side=clip.max_side, allow_large=clip.allow_large) as reader:
            for frame in reader.frames_from(chunk.warm_from, chunk.number - chunk.overlap):
                if frame.pts is not None and chunk.end is not None and frame.pts >= chunk.end:
                    break
                lead_in = frame.pts is not None and frame.pts < chunk.start
                stylized = paint(frame.rgb)
                if blend is not None:
                    cuts_before = blend.cuts
                    stylized = blend.blend(frame.rgb, stylized)
                    done.cuts += 0 if lead_in else blend.cuts - cuts_before
                kept = Frame(stylized, frame.pts, frame.rotation, frame.duration)
                (done.lead_in if lead_in else done.frames).append(kept)
    except Exception as exc:  # reported as the clip's one line
        return StylizedChunk(failure=failure_reason(exc, clip.path), node=node)
    return done


def stylize_clip_on_ray(
    job: PortableJob,
    source: str | Path,
    target: str | Path,
    *,
    hold: float | None = DEFAULT_HOLD,
    crf: int = DEFAULT_CRF,
    overwrite: bool = False,
    max_side: int | None = None,
    allow_large: bool = False,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    overlap: int = DEFAULT_OVERLAP,
    progress: ClipProgress | None = None,
    address: str | None = None,
) -> ClipResult:
    """`stylize_clip` with the frames stylized on the Ray cluster at `address` (see
    `connect`) in chunks of `chunk_frames`, each after `overlap` frames that warm the blend
    up (none with `hold` None: frame by frame). `job` holds the model and settings; the clip
    must be at `source`'s absolute path on every node. Nothing is written unless the whole
    clip is; a chunk that fails fails the clip, in one line."""
    source, target = Path(source), Path(target)
    check_crf(crf)
    check_chunk_frames(chunk_frames)
    clip = ClipSource(
        source.absolute(), None if hold is None else check_hold(hold), max_side, allow_large
    )
    for path in (source, target):
        if path.suffix.lower() in ANIMATION_SUFFIXES:
            raise ClipError(
                f"{printable(str(path))}: animations (GIF, WebP) stylize on this machine: "
                "leave out --engine ray"
            )
    check_clip_target(source, target, overwrite)
    with ClipReader(source, max_side=max_side, allow_large=allow_large) as reader:
        times = reader.frame_times()
    chunks = plan_chunks(times, chunk_frames, overlap if hold is not None else 0)
    runner = _ChunkRunner(connect(address), job, clip, target, progress)
    with ClipReader(source, max_side=max_side, allow_large=allow_large) as reader:
        try:
            with atomic_path(target, overwrite=overwrite) as temporary:
                runner.run(chunks, len(times), reader, temporary, crf)
        except FileExistsError:
            raise ClipError(
                f"{printable(str(target))} exists; pass --overwrite to replace it"
            ) from None
    return runner.done


class _AudioCopy:
    """The clip's audio packets, copied into the writer as far as the video written."""

    def __init__(self, reader: ClipReader) -> None:
        self._packets = reader.audio_packets()
        self._next = next(self._packets, None)

    def until(self, writer: ClipWriter, seconds: Fraction | None) -> None:
        """Copy the packets that start before `seconds` into the clip (None: all the rest)."""
        while self._next is not None and (seconds is None or _seconds(self._next) < seconds):
            writer.copy(self._next)
            self._next = next(self._packets, None)


def _seconds(packet: Any) -> Fraction:
    """When an audio packet starts, in seconds."""
    time_stamp = packet.pts if packet.pts is not None else packet.dts
    return time_stamp * packet.time_base


class _ChunkRunner:
    """One clip's chunks on Ray: a window of tasks in flight, their frames written in order."""

    def __init__(
        self,
        ray: Any,
        job: PortableJob,
        clip: ClipSource,
        target: Path,
        progress: ClipProgress | None,
    ) -> None:
        self.ray = ray
        self.clip = clip
        self.target = target
        self.progress = progress
        self.job_ref = ray.put(job)
        self.task, self.window = spread_task(ray, stylize_chunk, job)
        self.done = ClipResult(target)
        self.nodes: Counter[str] = Counter()

    def run(
        self, chunks: list[Chunk], expected: int, reader: ClipReader, temporary: Path, crf: int
    ) -> None:
        """Stylize `chunks` (`expected` frames in all) and write their frames in order, with
        `reader`'s audio, into a clip at `temporary`; the last note says how many chunks each
        node did."""
        started = time.perf_counter()
        pending = deque(chunks)
        in_flight: deque[tuple[Chunk, Any]] = deque()
        audio = _AudioCopy(reader)
        writer: ClipWriter | None = None
        held: list[Frame] = []  # the chunk before's last frames, to dissolve into the next
        try:
            while pending or in_flight:
                while pending and len(in_flight) < self.window:
                    chunk = pending.popleft()
                    in_flight.append((chunk, self.task.remote(self.job_ref, self.clip, chunk)))
                chunk, ref = in_flight.popleft()
                stylized = self._received(chunk, ref, reader.shown)
                frames = [*dissolved(held, stylized.lead_in), *stylized.frames]
                following = in_flight[0][0] if in_flight else pending[0] if pending else None
                keep = following.overlap if following is not None else 0
                frames, held = frames[: len(frames) - keep], frames[len(frames) - keep :]
                if frames and writer is None:  # the first frame carries the rotation
                    writer = ClipWriter(
                        temporary,
                        self.target,
                        reader.info,
                        rotation=frames[0].rotation,
                        crf=crf,
                        audio=reader.audio_stream,
                    )
                if writer is not None:
                    for frame in frames:
                        writer.write(frame.rgb, frame.pts, frame.duration)
                    until = held[0].pts if held else chunk.end
                    audio.until(writer, None if until is None else until * reader.info.time_base)
                self.done.frames += len(frames)
                if self.progress is not None:
                    self.progress(self.done.frames, expected, time.perf_counter() - started)
            if writer is None:
                raise ClipError(f"{reader.shown}: its video holds no frames")
            writer.finish()
        finally:
            for _, ref in in_flight:  # stopped early: nothing of theirs is written
                self.ray.cancel(ref)
            if writer is not None:
                with contextlib.suppress(ClipError):  # after a failure: the file is dropped anyway
                    writer.close()
        self.done.seconds = time.perf_counter() - started
        self.done.notes += [*writer.notes, node_line(self.nodes, "chunk", "stylized")]

    def _received(self, chunk: Chunk, ref: Any, shown: str) -> StylizedChunk:
        """A finished chunk, or ClipError saying why it has no frames."""
        try:
            stylized: StylizedChunk = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            why = failure_reason(exc, self.clip.path)
            raise ClipError(f"{shown}: Ray could not stylize {chunk.shown()} ({why})") from None
        if stylized.failure is not None:
            raise ClipError(f"{shown}: {stylized.failure}")
        self.nodes[stylized.node] += 1
        self.done.cuts += stylized.cuts
        return stylized


def dissolved(before: list[Frame], after: list[Frame]) -> list[Frame]:
    """The frames of `before` dissolving into those of `after` (the same frames, stylized by
    two chunks): the later chunk's share grows evenly over them. Unmatched frames of `before`
    come first, as they are."""
    import numpy as np

    count = min(len(before), len(after))
    frames = before[: len(before) - count]
    pairs = zip(before[len(before) - count :], after[len(after) - count :], strict=True)
    for index, (old, new) in enumerate(pairs):
        share = (index + 1) / (count + 1)
        rgb = old.rgb.astype(np.float32) * (1 - share) + new.rgb.astype(np.float32) * share
        frames.append(
            Frame(np.rint(rgb).astype(old.rgb.dtype), new.pts, new.rotation, new.duration)
        )
    return frames
