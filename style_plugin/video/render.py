"""One clip in, one stylized clip out: frames streamed from the reader through the painter
(the style model) and the temporal blend to the writer, into a temporary file beside the
target that is renamed onto it only when the clip is complete.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from style_plugin.atomic import atomic_path
from style_plugin.contract import printable
from style_plugin.video.animations import AnimationReader, AnimationWriter
from style_plugin.video.clips import ClipError, ClipInfo, ClipReader, Frame
from style_plugin.video.defaults import ANIMATION_SUFFIXES, DEFAULT_CRF, DEFAULT_HOLD, check_crf
from style_plugin.video.encoding import ClipWriter, container_format
from style_plugin.video.sequence import TemporalBlend

__all__ = ["ClipResult", "check_clip_target", "stylize_clip"]

#: Audio packets kept while waiting for the first video frame; a clip whose video starts
#: later than that is refused rather than held in memory.
MOST_AUDIO_AHEAD = 10_000

#: progress(frames done, frames expected or None, seconds since the first frame).
ClipProgress = Callable[[int, int | None, float], None]


@dataclass
class ClipResult:
    """What stylizing one clip did: frames written, seconds taken, scene cuts found, and
    notes on what the output could not keep."""

    target: Path
    frames: int = 0
    seconds: float = 0.0
    cuts: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def check_clip_target(source: Path, target: Path, overwrite: bool) -> None:
    """ClipError unless `target` may be written for `source`: a clip or animation suffix we
    write, not the input itself, not a folder, not an existing file unless `overwrite`."""
    if not _is_animation_name(target):
        container_format(target)
    shown = printable(str(target))
    if target.exists() and os.path.samefile(source, target):
        raise ClipError(f"refusing to write onto the input itself ({shown})")
    if target.is_dir():
        raise ClipError(f"its output {shown} is a folder")
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise ClipError(f"{shown} exists; pass --overwrite to replace it")


def stylize_clip(
    source: str | Path,
    target: str | Path,
    paint: Callable[[np.ndarray], np.ndarray],
    *,
    hold: float | None = DEFAULT_HOLD,
    crf: int = DEFAULT_CRF,
    overwrite: bool = False,
    max_side: int | None = None,
    allow_large: bool = False,
    progress: ClipProgress | None = None,
) -> ClipResult:
    """Stylize the clip `source` into `target` and say what was done.

    `paint` stylizes one HxWx3 uint8 frame at its size (a bound `Stylizer.stylize_array`);
    `hold` is the temporal blend's (None: frame by frame); `crf` the quality; `max_side`
    scales frames down to at most that long side. The frame times, the rotation and the
    audio packets are kept; nothing is written unless the whole clip is.
    """
    source, target = Path(source), Path(target)
    check_crf(crf)
    check_clip_target(source, target, overwrite)
    blend = TemporalBlend(hold) if hold is not None else None  # a bad hold before any work
    result = ClipResult(target)
    opener = AnimationReader if _is_animation_name(source) else ClipReader
    with opener(source, max_side=max_side, allow_large=allow_large) as reader:
        try:
            with atomic_path(target, overwrite=overwrite) as temporary:
                _render(reader, temporary, target, paint, blend, crf, result, progress)
        except FileExistsError:
            raise ClipError(
                f"{printable(str(target))} exists; pass --overwrite to replace it"
            ) from None
    result.cuts = blend.cuts if blend is not None else 0
    return result


def _is_animation_name(path: Path) -> bool:
    return path.suffix.lower() in ANIMATION_SUFFIXES


def _writer(
    temporary: Path, target: Path, reader: ClipReader | AnimationReader, rotation: int, crf: int
) -> ClipWriter | AnimationWriter:
    """The writer for `target`'s suffix: an animation, or a video with the input's audio."""
    if _is_animation_name(target):
        return AnimationWriter(temporary, target, reader.info, rotation=rotation)
    return ClipWriter(
        temporary, target, reader.info, rotation=rotation, crf=crf, audio=reader.audio_stream
    )


def _render(
    reader: ClipReader | AnimationReader,
    temporary: Path,
    target: Path,
    paint: Callable[[np.ndarray], np.ndarray],
    blend: TemporalBlend | None,
    crf: int,
    result: ClipResult,
    progress: ClipProgress | None,
) -> None:
    """Stream `reader`'s frames through `paint` and `blend` into a writer on `temporary`;
    the writer starts at the first frame, which carries the rotation."""
    info: ClipInfo = reader.info
    expected = info.expected_frames()
    writer: ClipWriter | AnimationWriter | None = None
    audio_ahead: list[Any] = []
    started = time.perf_counter()
    try:
        for item in reader.items():
            if not isinstance(item, Frame):
                if writer is not None:
                    writer.copy(item)
                elif len(audio_ahead) < MOST_AUDIO_AHEAD:
                    audio_ahead.append(item)
                else:
                    raise ClipError(
                        f"{reader.shown}: no video frame among its first "
                        f"{MOST_AUDIO_AHEAD} audio packets"
                    )
                continue
            if writer is None:
                writer = _writer(temporary, target, reader, item.rotation, crf)
                for packet in audio_ahead:
                    writer.copy(packet)
                audio_ahead.clear()
            stylized = paint(item.rgb)
            if blend is not None:
                stylized = blend.blend(item.rgb, stylized)
            writer.write(stylized, item.pts, item.duration)
            result.frames += 1
            if progress is not None:
                progress(result.frames, expected, time.perf_counter() - started)
        if writer is None:  # items() refuses a clip without frames; this is its guard
            raise ClipError(f"{reader.shown}: its video holds no frames")
        writer.finish()
        result.notes += writer.notes
    finally:
        if writer is not None:
            with contextlib.suppress(ClipError):  # after a failure: the file is dropped anyway
                writer.close()
    result.seconds = time.perf_counter() - started
