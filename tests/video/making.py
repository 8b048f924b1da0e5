"""Small clips made with PyAV for the video tests: a textured scene panning by a known
number of pixels per frame, optionally with a sine-tone audio track, a display rotation,
uneven frame times, or a scene cut."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tests.support import sample_photo

#: Audio sample rate of the made clips.
SAMPLE_RATE = 48_000


def panning_frames(
    count: int,
    width: int = 96,
    height: int = 64,
    step: float = 2.0,
    noise: float = 0.0,
    seed: int = 0,
    name: str = "chelsea.jpg",
) -> list[np.ndarray]:
    """`count` RGB frames of a bundled photo seen through a window that moves `step` pixels
    right per frame, with Gaussian noise of `noise` (0..255) like a camera's."""
    import cv2

    rng = np.random.default_rng(seed)
    scene = np.asarray(sample_photo(width * 2, height, name), dtype=np.float32)
    frames = []
    for index in range(count):
        shift = np.float32([[1, 0, index * step], [0, 1, 0]])
        frame = cv2.warpAffine(
            scene, shift, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        )
        frame = frame + rng.normal(0, noise, frame.shape) if noise else frame
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    *,
    rate: int = 24,
    audio_seconds: float = 0.0,
    rotation: int = 0,
    times: list[int] | None = None,
    codec: str = "libx264",
    audio_codec: str = "aac",
    pix_fmt: str = "yuv420p",
    options: dict[str, str] | None = None,
) -> Path:
    """Write `frames` (HxWx3 uint8; even sides in yuv420p) as a clip at `rate` frames/s (frame times in
    1/`rate` units, or `times`), with `audio_seconds` of a 440 Hz tone; `options` are the
    encoder's (a keyframe every 8 frames: {"g": "8"})."""
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=Fraction(rate), options=options or {})
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = pix_fmt
        if rotation:
            video.set_display_rotation(rotation)
        audio = None
        if audio_seconds:
            audio = container.add_stream(audio_codec, rate=SAMPLE_RATE)
            audio.layout = "mono"
        for index, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index if times is None else times[index]
            frame.time_base = Fraction(1, rate)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            samples = int(SAMPLE_RATE * audio_seconds)
            tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / SAMPLE_RATE)
            chunk = 1024
            for start in range(0, samples, chunk):
                piece = tone[start : start + chunk].astype(np.float32)[None]
                frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = SAMPLE_RATE, start
                container.mux(audio.encode(frame))
            container.mux(audio.encode(None))
    return path


def clip_facts(path: Path) -> dict:
    """What a written clip holds: frames, their times (seconds), rate, size, rotation,
    audio codec and audio seconds."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = list(container.decode(video))
        facts = {
            "frames": len(frames),
            "times": [float(frame.time) for frame in frames],
            "rate": video.average_rate,
            "size": (frames[0].width, frames[0].height) if frames else None,
            "rotation": frames[0].rotation if frames else 0,
            "audio": None,
            "audio_seconds": 0.0,
        }
    with av.open(str(path)) as container:
        if container.streams.audio:
            stream = container.streams.audio[0]
            facts["audio"] = stream.codec_context.name
            facts["audio_seconds"] = sum(f.samples for f in container.decode(stream)) / (
                stream.sample_rate or SAMPLE_RATE
            )
    return facts
