"""`style-plugin stylize clip.mp4 --engine ray`: a clip cut into chunks of consecutive frames,
each painted by the style model in a Ray task, and held and encoded once on this machine.

This machine (the driver) reads the clip's packets, not its frames, to learn each frame's time,
and cuts the frames into chunks of `chunk_frames`. A Ray task per chunk opens the clip itself
(so every node reads it at the same path: shared storage), seeks to the keyframe before the
chunk, decodes forward and runs the style model on each frame: the costly part. The painted
chunks come back in order; the driver decodes the clip too and runs the temporal blend over
the whole clip in order (optical flow and resampling, far cheaper than the model), so strokes
are held across chunks exactly as in one local run and there is no seam. It encodes the
frames once, with the audio copied as the local engine does, into a temporary file renamed
onto the target when the clip is complete.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter, deque
from collections.abc import Iterator
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
from style_plugin.video.render import ClipProgress, ClipResult, check_clip_target
from style_plugin.video.sequence import TemporalBlend

if TYPE_CHECKING:
    import numpy as np

__all__ = ["stylize_chunk", "stylize_clip_on_ray"]


@dataclass(frozen=True)
class ClipSource:
    """The clip a chunk task reads and how: its absolute path, and the reader's `max_side`
    and `allow_large`."""

    path: Path
    max_side: int | None
    allow_large: bool


@dataclass
class PaintedChunk:
    """What a chunk task sends back: its frames painted by the style model, with their times,
    why it failed (None: it did not), and the node that did the work."""

    frames: list[Frame] = field(default_factory=list)
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
    done = PaintedChunk(node=node)
    try:
        with ClipReader(clip.path, max_side=clip.max_side, allow_large=clip.allow_large) as reader:
            for frame in reader.frames_from(chunk.start, chunk.number):
                if frame.pts is not None and chunk.end is not None and frame.pts >= chunk.end:
                    break
                painted = paint(frame.rgb)
                done.frames.append(Frame(painted, frame.pts, frame.rotation, frame.duration))
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
    clip = ClipSource(source.absolute(), max_side, allow_large)
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
    with (
        ClipReader(source, max_side=max_side, allow_large=allow_large) as reader,
        ClipReader(source, max_side=max_side, allow_large=allow_large) as inputs,
    ):
        held = _DriverBlend(blend, inputs.frames_from(times[0]), reader.shown)
        try:
            with atomic_path(target, overwrite=overwrite) as temporary:
                runner.run(chunks, len(times), reader, held, temporary, crf)
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
        held: _DriverBlend,
        temporary: Path,
        crf: int,
    ) -> None:
        """Paint `chunks` (`expected` frames in all), hold their frames as one sequence
        (`held`) and write them in order, with `reader`'s audio, into a clip at `temporary`;
        the last note says how many chunks each node did."""
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
                frames = self._received(chunk, ref, reader.shown)
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
                        writer.write(held.blend(frame.rgb), frame.pts, frame.duration)
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
        self.done.cuts = held.cuts
        self.done.seconds = time.perf_counter() - started
        self.done.notes += [*writer.notes, node_line(self.nodes, "chunk", "stylized")]

    def _received(self, chunk: Chunk, ref: Any, shown: str) -> list[Frame]:
        """The painted frames of a finished chunk, or ClipError saying why there are none."""
        try:
            painted: PaintedChunk = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            why = failure_reason(exc, self.clip.path)
            raise ClipError(f"{shown}: Ray could not stylize {chunk.shown()} ({why})") from None
        if painted.failure is not None:
            raise ClipError(f"{shown}: {painted.failure}")
        self.nodes[painted.node] += 1
        return painted.frames


class _DriverBlend:
    """The temporal blend run here over the painted frames in order, with the input frames
    (`inputs`, decoded here) whose motion it follows; frame by frame without a blend."""

    def __init__(self, blend: TemporalBlend | None, inputs: Iterator[Frame], shown: str) -> None:
        self._blend = blend
        self._inputs = inputs
        self._shown = shown

    @property
    def cuts(self) -> int:
        return 0 if self._blend is None else self._blend.cuts

    def blend(self, painted: np.ndarray) -> np.ndarray:
        """The output for the next frame, whose painted version is `painted`."""
        if self._blend is None:
            return painted
        frame = next(self._inputs, None)
        if frame is None:  # the chunks hold frames the clip, read here, does not
            raise ClipError(f"{self._shown}: it ended here before the frames painted on Ray did")
        return self._blend.blend(frame.rgb, painted)
