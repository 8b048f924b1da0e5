"""Animated GIF and WebP files as clips. FFmpeg reads no animated WebP, so animations come
through Pillow (`AnimationReader`, the face of `ClipReader`); an animation is written
back with Pillow (`AnimationWriter`, the face of `ClipWriter`): each frame for as long as the
input showed it, looping forever, as browsers and editors expect.

An animation is written whole at the end (Pillow's writers take every frame at once), so the
frames kept until then are bounded: a clip too long for an animation is refused with the
advice to write a video instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from PIL import Image

from style_plugin.contract import printable
from style_plugin.errors import StylePluginError
from style_plugin.runtime.reading import TooLargeError, bomb_guarded, open_readable
from style_plugin.video.clips import ClipError, ClipInfo, Frame, fitted
from style_plugin.video.defaults import ANIMATION_SUFFIXES

__all__ = ["AnimationReader", "AnimationWriter", "is_animation"]

#: Frame times of animations, in milliseconds.
MILLISECONDS = Fraction(1, 1000)
#: How long a frame is shown where the file does not say (browsers' usual 0.1 s).
DEFAULT_FRAME_MS = 100
#: Pixels of frames an animation being written may keep (an RGB byte each, 1 for GIF's palette).
MOST_KEPT_BYTES = 1 << 30
_WRITE_FORMATS = {".gif": "GIF", ".webp": "WEBP"}
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError)


def is_animation(path: str | Path) -> bool:
    """Whether `path` is a GIF or WebP file of more than one frame."""
    path = Path(path)
    if path.suffix.lower() not in ANIMATION_SUFFIXES or not path.is_file():
        return False
    try:  # the frame count is in the structure Pillow reads on opening; no frame is decoded
        with path.open("rb") as file, bomb_guarded(str(path)), open_readable(file, path) as image:
            return int(getattr(image, "n_frames", 1)) > 1
    except (StylePluginError, *_DECODE_ERRORS):
        return False  # not an animation; reading it as an image says what is wrong


class AnimationReader:
    """An open animated GIF or WebP: `info`, then `items()` yields each frame in order as a
    `Frame` whose time is in milliseconds. No audio. Use as a context manager, or `close()`."""

    audio_stream = None

    def __init__(
        self, path: Path, *, max_side: int | None = None, allow_large: bool = False
    ) -> None:
        self.path = Path(path)
        self.shown = printable(str(self.path))
        self._allow_large = allow_large
        try:
            self._file = self.path.open("rb")
        except OSError as exc:
            raise ClipError(f"{self.shown}: cannot open it ({exc.strerror or exc})") from None
        try:
            with self._guarded():
                self._image = open_readable(self._file, self.path)
                frames = int(getattr(self._image, "n_frames", 1))
            width, height = self._image.size
            self.info = ClipInfo(
                path=self.path,
                width=width,
                height=height,
                size=fitted(width, height, max_side),
                rate=None,
                time_base=MILLISECONDS,
                claimed_frames=frames,
                duration_s=None,
                audio=None,
            )
        except BaseException:
            self.close()
            raise

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        """Pillow's bomb guard, with its refusal and decoding errors as one ClipError line."""
        try:
            with bomb_guarded(self.shown, allow_large=self._allow_large):
                yield
        except TooLargeError as exc:
            raise ClipError(str(exc)) from None
        except _DECODE_ERRORS as exc:
            raise ClipError(f"{self.shown}: not a readable animation ({exc})") from None

    def items(self) -> Iterator[Frame]:
        """Each frame, composed as the file shows it, as RGB at `info.size`."""
        time_ms = 0
        for index in range(self.info.claimed_frames):
            with self._guarded():
                self._image.seek(index)
                rgb = self._image.convert("RGB")
                duration = int(self._image.info.get("duration") or DEFAULT_FRAME_MS)
            if rgb.size != self.info.size:
                rgb = rgb.resize(self.info.size, Image.Resampling.LANCZOS)
            yield Frame(np.asarray(rgb), time_ms, duration=duration)
            time_ms += duration

    def close(self) -> None:
        """Close the file."""
        image = getattr(self, "_image", None)
        if image is not None:
            image.close()
        self._file.close()

    def __enter__(self) -> AnimationReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AnimationWriter:
    """An animated GIF or WebP being written to `path` (the temporary file; `target` names it
    and picks the format): `write` each stylized frame with its time, `finish` saves them all.
    `copy` drops audio (an animation holds none) with a note."""

    def __init__(self, path: Path, target: Path, source: ClipInfo, *, rotation: int = 0) -> None:
        self.path = path
        self.shown = printable(str(target))
        self.format = _WRITE_FORMATS[target.suffix.lower()]
        self.notes: list[str] = []
        self._time_base = source.time_base
        self._turns = (rotation // 90) % 4  # as a player would turn it
        self._frames: list[Image.Image] = []
        self._times: list[Fraction | None] = []
        self._lengths: list[Fraction | None] = []
        self._kept = 0

    def write(self, rgb: np.ndarray, pts: int | None, duration: int | None = None) -> None:
        """Keep one frame (HxWx3 uint8) shown at `pts` for `duration` (in the input's time
        base; a frame without a duration shows until the next one)."""
        frame = Image.fromarray(np.ascontiguousarray(np.rot90(rgb, self._turns)))
        if self.format == "GIF":
            frame = frame.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        self._kept += frame.width * frame.height * len(frame.getbands())
        if self._kept > MOST_KEPT_BYTES:
            raise ClipError(
                f"cannot write {self.shown}: too many frames for an animation "
                f"(over {MOST_KEPT_BYTES >> 20} MB of pixels); write a video (.mp4) instead"
            )
        self._frames.append(frame)
        self._times.append(None if pts is None else Fraction(pts) * self._time_base)
        self._lengths.append(None if not duration else Fraction(duration) * self._time_base)

    def copy(self, packet: Any) -> None:
        """Audio cannot go into an animation: say so once."""
        note = f"the audio track is left out: a {self.format} animation holds no sound"
        if note not in self.notes:
            self.notes.append(note)

    def _durations(self) -> list[int]:
        """Each frame's time on screen in milliseconds: its own duration, else until the
        next frame's time, else the usual tenth of a second."""
        starts = [*self._times[1:], None]
        shown = []
        for start, length, following in zip(self._times, self._lengths, starts, strict=True):
            if length is None and start is not None and following is not None:
                length = following - start
            shown.append(DEFAULT_FRAME_MS if not length or length <= 0 else round(length * 1000))
        return [max(10, ms) for ms in shown]  # GIF counts in hundredths, at least one

    def finish(self) -> None:
        """Save every frame kept, looping forever: the file is complete."""
        first, *rest = self._frames
        options = {"lossless": False, "quality": 90} if self.format == "WEBP" else {}
        try:
            first.save(
                self.path,
                format=self.format,
                save_all=True,
                append_images=rest,
                duration=self._durations(),
                loop=0,
                **options,
            )
        except (OSError, ValueError) as exc:
            raise ClipError(f"cannot write {self.shown}: {exc}") from None
        self.close()

    def close(self) -> None:
        """Let go of the frames kept."""
        self._frames.clear()
