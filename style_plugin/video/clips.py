"""Reading video clips with PyAV: what a clip holds (`ClipInfo`) and its frames, decoded one at
a time as RGB, with the audio packets between them as they come.

Clips are untrusted input: nothing is sized from what the header claims (a frame count or a
duration is only the progress bar's guess), frames larger than Pillow's decompression-bomb
limit are refused unless allowed, and a damaged stream ends the clip with one line.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from PIL import Image

from style_plugin.contract import printable
from style_plugin.errors import StylePluginError, one_line
from style_plugin.video.libraries import pyav

__all__ = ["ClipError", "ClipInfo", "ClipReader", "Frame", "fitted"]

#: How far short of its header's frame count or duration a clip may end: frames, and a share.
ENDING_SLACK_FRAMES = 2
ENDING_SLACK_SHARE = 0.05
#: The frame rate assumed where a clip does not say one.
FALLBACK_RATE = Fraction(25)
#: Frame counts beyond this (about four days at 25 frames/s) are not believed, even as a guess.
MOST_FRAMES_BELIEVED = 10_000_000


class ClipError(StylePluginError):
    """A clip cannot be read, or a stylized clip cannot be written."""


def av_reason(exc: BaseException) -> str:
    """An FFmpeg error's own words, without the error number and file name PyAV adds."""
    return str(getattr(exc, "strerror", None) or one_line(exc))


@dataclass(frozen=True)
class ClipInfo:
    """What a clip's header says about its video: `width` x `height` as decoded (the frames
    come out at `size`, after `--max-side`), `rate` (frames per second, None when unknown),
    `time_base` of the frame times, the claimed frame count and duration (guesses), and the audio codec."""

    path: Path
    width: int
    height: int
    size: tuple[int, int]
    rate: Fraction | None
    time_base: Fraction
    claimed_frames: int
    duration_s: float | None
    audio: str | None

    def expected_frames(self) -> int | None:
        """How many frames the clip probably has, for showing progress only; None if the
        header does not say or says something not to be believed."""
        guess = self.claimed_frames
        if guess <= 0 and self.duration_s and self.rate:
            guess = round(self.duration_s * float(self.rate))
        return guess if 0 < guess <= MOST_FRAMES_BELIEVED else None


@dataclass(frozen=True)
class Frame:
    """One decoded frame: `rgb` (HxWx3 uint8), its time `pts` and how long it shows
    (`duration`, None when unknown) in the clip's time base, and its `rotation`
    (counter-clockwise degrees a player turns it by: the display matrix)."""

    rgb: np.ndarray
    pts: int | None
    rotation: int = 0
    duration: int | None = None


def fitted(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """(width, height) scaled down to at most `max_side` long, never up."""
    longest = max(width, height)
    if not max_side or longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


class ClipReader:
    """An open clip: `info`, then `items()` yields each video `Frame` in order, and the packets
    of the first audio stream (`audio_stream`) as they come, for copying. Use as a context
    manager, or `close()`."""

    def __init__(
        self, path: Path, *, max_side: int | None = None, allow_large: bool = False
    ) -> None:
        av = pyav()
        self.path = Path(path)
        self.shown = printable(str(self.path))
        self._error = av.error.FFmpegError
        if not self.path.is_file():
            raise ClipError(
                f"{self.shown}: {'not a file' if self.path.exists() else 'no such file'}"
            )
        try:
            self._container = av.open(str(self.path), metadata_errors="replace")
        except self._error as exc:
            raise ClipError(f"{self.shown}: not a readable video ({av_reason(exc)})") from None
        except OSError as exc:
            raise ClipError(f"{self.shown}: cannot open it ({one_line(exc)})") from None
        try:
            self.info = self._probe(max_side, allow_large)
        except BaseException:
            self.close()
            raise

    def _probe(self, max_side: int | None, allow_large: bool) -> ClipInfo:
        container = self._container
        if not container.streams.video:
            raise ClipError(f"{self.shown}: has no video stream")
        self.video = container.streams.video[0]
        self.video.thread_type = "AUTO"
        self.audio_stream = container.streams.audio[0] if container.streams.audio else None
        width, height = self.video.codec_context.width, self.video.codec_context.height
        if width <= 0 or height <= 0:
            raise ClipError(f"{self.shown}: its video has no frame size")
        self._check_size(width, height, allow_large)
        duration = None
        if container.duration and container.duration > 0:
            duration = container.duration / 1_000_000  # FFmpeg's AV_TIME_BASE
        return ClipInfo(
            path=self.path,
            width=width,
            height=height,
            size=fitted(width, height, max_side),
            rate=self.video.average_rate or self.video.guessed_rate,
            time_base=self.video.time_base or Fraction(1, 90_000),
            claimed_frames=max(0, self.video.frames or 0),
            duration_s=duration,
            audio=self.audio_stream.codec_context.name if self.audio_stream else None,
        )

    def _check_size(self, width: int, height: int, allow_large: bool) -> None:
        """ClipError for frames over Pillow's decompression-bomb limit, unless allowed."""
        limit = Image.MAX_IMAGE_PIXELS
        if not allow_large and limit and width * height > limit:
            raise ClipError(
                f"{self.shown}: frames of {width}x{height} pixels are over the "
                f"{limit}-pixel limit for untrusted files; pass --allow-large if you trust it"
            )

    def items(self) -> Iterator[Frame | Any]:
        """Video frames (as `Frame`s, in order) and audio packets, as the file holds them;
        ClipError when the stream turns out damaged, holds no frame at all, or ends well
        before its header says (a truncated file)."""
        streams = [self.video] + ([self.audio_stream] if self.audio_stream else [])
        count = 0
        first: int | None = None
        last: int | None = None
        try:
            for packet in self._container.demux(streams):
                if packet.stream.type == "audio":
                    if packet.dts is not None:  # not the empty packet that ends the stream
                        yield packet
                    continue
                for frame in packet.decode():
                    converted = self._converted(frame, count)
                    count += 1
                    if frame.pts is not None:
                        first = frame.pts if first is None else first
                        last = frame.pts
                    yield converted
        except self._error as exc:
            raise ClipError(
                f"{self.shown}: damaged after frame {count} ({av_reason(exc)})"
            ) from None
        if count == 0:
            raise ClipError(f"{self.shown}: its video holds no frames")
        self._check_complete(count, first, last)

    def frame_times(self) -> list[int]:
        """Each video frame's time (in `info.time_base`) in the order shown, read from the
        packets without decoding them: where `frames_from` finds the frames again. ClipError
        when a frame carries no time, or as `items` for a damaged, empty or truncated clip."""
        times: list[int] = []
        try:
            for packet in self._container.demux(self.video):
                if packet.size == 0:  # the empty packet that ends the stream
                    continue
                if packet.pts is None:
                    raise ClipError(
                        f"{self.shown}: its frames carry no times, so it cannot be cut into "
                        "parts; stylize it on this machine"
                    )
                times.append(packet.pts)
        except self._error as exc:
            raise ClipError(
                f"{self.shown}: damaged after frame {len(times)} ({av_reason(exc)})"
            ) from None
        if not times:
            raise ClipError(f"{self.shown}: its video holds no frames")
        times.sort()
        self._check_complete(len(times), times[0], times[-1])
        return times

    def frames_from(self, start: int, number: int = 0) -> Iterator[Frame]:
        """The video frames shown at time `start` (in `info.time_base`) and after, in order,
        decoded from the keyframe before it; `number` is that frame's number in the clip, for
        messages."""
        count = number
        try:
            for frame in self._decoded_from(start):
                if frame.pts is None or frame.pts >= start:
                    yield self._converted(frame, count)
                    count += 1
        except self._error as exc:
            raise ClipError(
                f"{self.shown}: damaged after frame {count} ({av_reason(exc)})"
            ) from None

    def _decoded_from(self, start: int) -> Iterator[Any]:
        """PyAV's decoded video frames from a keyframe shown at or before `start`. Where the
        index finds keyframes by their decoding time (B-frames in an AVI, an open GOP), a seek
        may land on one shown after `start`: then the keyframe before it is tried, and so on."""
        position = start
        while True:
            self._container.seek(position, stream=self.video, backward=True, any_frame=False)
            packets = self._container.demux(self.video)
            keyframe = next(packets, None)
            if keyframe is None:
                return
            decoded = (
                frame
                for packet in itertools.chain([keyframe], packets)
                for frame in packet.decode()
            )
            first = next(decoded, None)
            if first is None:
                return
            earlier = None if keyframe.dts is None else keyframe.dts - 1
            landed_after = first.pts is not None and first.pts > start
            if not landed_after or earlier is None or earlier >= position:
                yield first
                yield from decoded
                return
            position = earlier

    def audio_packets(self) -> Iterator[Any]:
        """The packets of the first audio stream (`audio_stream`) in order, for copying;
        none where the clip has no audio."""
        if self.audio_stream is None:
            return
        try:
            for packet in self._container.demux(self.audio_stream):
                if packet.dts is not None:  # not the empty packet that ends the stream
                    yield packet
        except self._error as exc:
            raise ClipError(f"{self.shown}: its audio is damaged ({av_reason(exc)})") from None

    def _converted(self, frame: Any, count: int) -> Frame:
        """Decoded frame number `count` as a `Frame` of `info.size`, checked for its size."""
        self._check_frame_size(frame, count)
        width, height = self.info.size
        rgb = frame.reformat(width=width, height=height, format="rgb24")
        rotation = int(frame.rotation or 0)
        return Frame(rgb.to_ndarray(), frame.pts, rotation, frame.duration or None)

    def _check_frame_size(self, frame: Any, count: int) -> None:
        """ClipError when a frame's size is not the clip's (the output has one size)."""
        if (frame.width, frame.height) != (self.info.width, self.info.height):
            raise ClipError(
                f"{self.shown}: its frame size changes at frame {count + 1}, from "
                f"{self.info.width}x{self.info.height} to {frame.width}x{frame.height}"
            )

    def _check_complete(self, count: int, first: int | None, last: int | None) -> None:
        """ClipError when the frames read end well short of what the header claims: the
        file is truncated, or its header is wrong; either way not a clip to stylize."""
        claimed = self.info.claimed_frames
        if claimed > count + ENDING_SLACK_FRAMES:
            raise ClipError(
                f"{self.shown}: holds {count} frames, but its header claims {claimed}: "
                "the file is truncated or damaged"
            )
        duration = self.video.duration
        rate = float(self.info.rate or FALLBACK_RATE)
        if not duration or first is None or last is None:
            return
        claimed_s = float(duration * self.info.time_base)
        read_s = float((last - first) * self.info.time_base) + 1 / rate
        if read_s < claimed_s * (1 - ENDING_SLACK_SHARE) - ENDING_SLACK_FRAMES / rate:
            raise ClipError(
                f"{self.shown}: its video ends at {read_s:.2f} s, but its header claims "
                f"{claimed_s:.2f} s: the file is truncated or damaged"
            )

    def close(self) -> None:
        """Close the file."""
        self._container.close()

    def __enter__(self) -> ClipReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
