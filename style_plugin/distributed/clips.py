"""`style-plugin stylize clip.mp4 --engine ray`: a clip cut into chunks of consecutive frames,
each painted by the style model in a Ray task, and held and encoded once on this machine.

This machine (the driver) reads the clip's packets, not its frames, to learn each frame's time,
and cuts the frames into chunks of `chunk_frames`. A Ray task per chunk opens the clip itself
(so every node reads it at the same path: shared storage), seeks to the keyframe before the
chunk, decodes forward and runs the style model on each frame: the costly part. With the
temporal blend, it also sends back each frame's small grey frame for the optical flow. The
painted chunks come back in order; the driver runs the blend over the whole clip in order
(optical flow and resampling, far cheaper than the model), so strokes are held across chunks
exactly as in one local run and there is no seam. It encodes the
frames once, with the audio copied as the local engine does, into a temporary file renamed
onto the target when the clip is complete.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from style_plugin.atomic import atomic_path
from style_plugin.contract import printable
from style_plugin.distributed.chunks import (
    DEFAULT_CHUNK_FRAMES,
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
)
from style_plugin.video.encoding import ClipWriter
from style_plugin.video.motion import MotionEstimator
from style_plugin.video.render import ClipProgress, ClipResult, check_clip_target
from style_plugin.video.sequence import TemporalBlend

if TYPE_CHECKING:
    import numpy as np

__all__ = ["stylize_chunk", "stylize_clip_on_ray"]


@dataclass(frozen=True)
class ClipSource:
    """The clip a chunk task reads and how: its absolute path, the reader's `max_side` and
    `allow_large`, and whether to send back the frames' grey frames for the flow (`held`)."""

    path: Path
    max_side: int | None
    allow_large: bool
    held: bool


@dataclass
class PaintedChunk:
    """What a chunk task sends back: its frames painted by the style model, with their times,
    the input frames' grey frames for the flow (`MotionEstimator.flow_frame`; none unless the
    clip is held), why it failed (None: it did not), and the node that did the work."""

    frames: list[Frame] = field(default_factory=list)
    flow_frames: list[np.ndarray] = field(default_factory=list)
    failure: str | None = None
    node: str = ""


def stylize_chunk(job: PortableJob, clip: ClipSource, chunk: Chunk) -> PaintedChunk:
    """One chunk on a worker: its frames decoded from the clip and painted."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    if not clip.path.is_file():
        return PaintedChunk(
            failure=f"not found on the Ray node {node[:8]}: a clip on Ray is read by the nodes "
            "themselves, so it must be at the same path on each (shared storage)",
            node=node,
        )
    settings = StyleSettings.from_call(job.settings, max_side=None)  # the reader scales down
    paint = functools.partial(job.stylizer().stylize_array, style=job.style, settings=settings)
    motion = MotionEstimator() if clip.held else None
    done = PaintedChunk(node=node)
    try:
        with ClipReader(clip.path, max_side=clip.max_side, allow_large=clip.allow_large) as reader:
            for frame in reader.frames_from(chunk.start, chunk.number):
                if frame.pts is not None and chunk.end is not None and frame.pts >= chunk.end:
                    break
                painted = paint(frame.rgb)
                done.frames.append(Frame(painted, frame.pts, frame.rotation, frame.duration))
                if motion is not None:
                    done.flow_frames.append(motion.flow_frame(frame.rgb))
    except Exception as exc:  # reported as the clip's one line
        return PaintedChunk(failure=failure_reason(exc, clip.path), node=node)
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
    progress: ClipProgress | None = None,
    address: str | None = None,
) -> ClipResult:
    """`stylize_clip` with the frames painted on the Ray cluster at `address` (see `connect`)
    in chunks of `chunk_frames`, and held here as one sequence (`hold`; None: frame by
    frame). `job` holds the model and settings; the clip must be at `source`'s absolute path
    on every node. Nothing is written unless the whole clip is; a chunk that fails fails the
    clip, in one line."""
    source, target = Path(source), Path(target)
    check_crf(crf)
    check_chunk_frames(chunk_frames)
    blend = TemporalBlend(hold) if hold is not None else None  # a bad hold before any work
    clip = ClipSource(source.absolute(), max_side, allow_large, held=blend is not None)
    for path in (source, target):
        if path.suffix.lower() in ANIMATION_SUFFIXES:
            raise ClipError(
                f"{printable(str(path))}: animations (GIF, WebP) stylize on this machine: "
                "leave out --engine ray"
            )
    check_clip_target(source, target, overwrite)
    with ClipReader(source, max_side=max_side, allow_large=allow_large) as reader:
        times = reader.frame_times()
    chunks = plan_chunks(times, chunk_frames)
    runner = _ChunkRunner(connect(address), job, clip, target, progress)
    with ClipReader(source, max_side=max_side, allow_large=allow_large) as reader:
        try:
            with atomic_path(target, overwrite=overwrite) as temporary:
                runner.run(chunks, len(times), reader, blend, temporary, crf)
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
        self,
        chunks: list[Chunk],
        expected: int,
        reader: ClipReader,
        blend: TemporalBlend | None,
        temporary: Path,
        crf: int,
    ) -> None:
        """Paint `chunks` (`expected` frames in all), `blend` their frames as one sequence
        (None: frame by frame) and write them in order, with `reader`'s audio, into a clip at
        `temporary`; the last note says how many chunks each node did."""
        started = time.perf_counter()
        pending = deque(chunks)
        in_flight: deque[tuple[Chunk, Any]] = deque()
        audio = _AudioCopy(reader)
        writer: ClipWriter | None = None
        try:
            while pending or in_flight:
                while pending and len(in_flight) < self.window:
                    chunk = pending.popleft()
                    in_flight.append((chunk, self.task.remote(self.job_ref, self.clip, chunk)))
                chunk, ref = in_flight.popleft()
                painted = self._received(chunk, ref, reader.shown)
                frames = painted.frames
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
                    for index, frame in enumerate(frames):
                        rgb = frame.rgb
                        if blend is not None:
                            rgb = blend.blend_flow_frame(painted.flow_frames[index], rgb)
                        writer.write(rgb, frame.pts, frame.duration)
                    end = None if chunk.end is None else chunk.end * reader.info.time_base
                    audio.until(writer, end)
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
        self.done.cuts = 0 if blend is None else blend.cuts
        self.done.seconds = time.perf_counter() - started
        self.done.notes += [*writer.notes, node_line(self.nodes, "chunk", "stylized")]

    def _received(self, chunk: Chunk, ref: Any, shown: str) -> PaintedChunk:
        """A finished chunk, or ClipError saying why it has no frames."""
        try:
            painted: PaintedChunk = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            why = failure_reason(exc, self.clip.path)
            raise ClipError(f"{shown}: Ray could not stylize {chunk.shown()} ({why})") from None
        if painted.failure is not None:
            raise ClipError(f"{shown}: {painted.failure}")
        self.nodes[painted.node] += 1
        return painted
