"""Writing stylized clips with PyAV: H.264 (VP9 in .webm) in yuv420p, each frame at the time
it had in the input, the display rotation kept, and the input's audio packets copied as they
are (no re-encoding) where the output container takes their codec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from style_plugin.contract import printable
from style_plugin.video.clips import FALLBACK_RATE, ClipError, ClipInfo, av_reason
from style_plugin.video.defaults import DEFAULT_CRF
from style_plugin.video.libraries import pyav

__all__ = ["WRITE_SUFFIXES", "ClipWriter", "container_format"]

#: Output suffix -> FFmpeg container.
WRITE_SUFFIXES = {
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".mov": "mov",
    ".mkv": "matroska",
    ".webm": "webm",
    ".avi": "avi",
}


def container_format(target: Path) -> str:
    """The FFmpeg container for `target`'s suffix, or ClipError naming the suffixes taken."""
    try:
        return WRITE_SUFFIXES[target.suffix.lower()]
    except KeyError:
        taken = ", ".join(WRITE_SUFFIXES)
        raise ClipError(
            f"cannot write a clip as {printable(str(target))}: name a {taken} file "
            "(or .gif, .webp for an animation)"
        ) from None


def _video_codec(container: str, crf: int) -> tuple[str, dict[str, str]]:
    """The encoder and its options for `container` at quality `crf`."""
    if container == "webm":
        return "libvpx-vp9", {"crf": str(crf), "b": "0", "row-mt": "1", "cpu-used": "4"}
    return "libx264", {"crf": str(crf), "preset": "medium"}


def even_sized(rgb: np.ndarray) -> np.ndarray:
    """`rgb` with a last row and column repeated where its sides are odd (yuv420p holds even
    sides only)."""
    height, width = rgb.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return rgb
    return np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


class ClipWriter:
    """A clip being written to `path` (the temporary file; `target` names it in messages and
    picks the container): `write` each stylized frame, `copy` audio packets, `finish`.

    `notes` holds what the output could not keep, one line each.
    """

    def __init__(
        self,
        path: Path,
        target: Path,
        source: ClipInfo,
        *,
        rotation: int = 0,
        crf: int = DEFAULT_CRF,
        audio: Any = None,
    ) -> None:
        av = pyav()
        self._av = av
        self.shown = printable(str(target))
        self.notes: list[str] = []
        self.time_base = source.time_base
        self._last_pts: int | None = None
        self._closed = False
        container = container_format(target)
        codec, options = _video_codec(container, crf)
        width, height = source.size
        try:
            self._out = av.open(str(path), "w", format=container)
        except (av.error.FFmpegError, OSError) as exc:
            raise ClipError(f"cannot write {self.shown}: {av_reason(exc)}") from None
        try:
            self._video = self._out.add_stream(codec, rate=source.rate or FALLBACK_RATE)
            self._video.options = options
            self._video.width, self._video.height = width + width % 2, height + height % 2
            self._video.pix_fmt = "yuv420p"
            self._video.time_base = source.time_base
            self._video.codec_context.time_base = source.time_base
            if rotation:
                self._video.set_display_rotation(rotation)
            self._audio = self._audio_stream(audio, target)
        except BaseException:
            self._out.close()
            raise
        if (width % 2, height % 2) != (0, 0):
            self.notes.append(
                f"frames of {width}x{height} are written as {self._video.width}x"
                f"{self._video.height}, the last row or column repeated (the video format "
                "holds even sizes only)"
            )

    def _audio_stream(self, audio: Any, target: Path) -> Any:
        """The output stream copying `audio` (an input stream), or None with a note when
        the container cannot hold its codec."""
        if audio is None:
            return None
        codec = audio.codec_context.name
        if codec in self._out.supported_codecs:
            try:
                return self._out.add_stream_from_template(audio)
            except (self._av.error.FFmpegError, ValueError):
                pass
        self.notes.append(
            f"the audio track ({codec}) is left out: a {target.suffix} file cannot hold it "
            "as it is (a .mkv output keeps it)"
        )
        return None

    def write(self, rgb: np.ndarray, pts: int | None, duration: int | None = None) -> None:
        """Encode one frame (HxWx3 uint8) shown at `pts` for `duration` (the input's times;
        a pts of None, or one not after the previous frame's, is put just after it)."""
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = 0 if self._last_pts is None else self._last_pts + 1
        self._last_pts = pts
        frame = self._av.VideoFrame.from_ndarray(
            np.ascontiguousarray(even_sized(rgb)), format="rgb24"
        )
        frame.pts = pts
        frame.time_base = self.time_base
        if duration:
            frame.duration = duration
        self._mux(self._video.encode(frame))

    def copy(self, packet: Any) -> None:
        """Copy one audio packet of the input as it is (nothing when audio is left out)."""
        if self._audio is not None:
            packet.stream = self._audio
            self._mux([packet])

    def finish(self) -> None:
        """Flush the encoder and write the container's index: the file is complete."""
        self._mux(self._video.encode(None))
        self.close()

    def _mux(self, packets: list[Any]) -> None:
        try:
            self._out.mux(packets)
        except self._av.error.FFmpegError as exc:
            raise ClipError(f"cannot write {self.shown}: {av_reason(exc)}") from None

    def close(self) -> None:
        """Close the file (complete only after `finish`); once is enough."""
        if self._closed:
            return
        self._closed = True
        try:
            self._out.close()
        except self._av.error.FFmpegError as exc:
            raise ClipError(f"cannot write {self.shown}: {av_reason(exc)}") from None
