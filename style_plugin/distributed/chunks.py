"""How a clip is cut into chunks of consecutive frames for the Ray engine, each stylized by one
task after a few frames that warm the temporal blend up. Light to import: the command line's
help reads the default."""

from __future__ import annotations

from dataclasses import dataclass

from style_plugin.runtime.options import OptionError

__all__ = [
    "DEFAULT_CHUNK_FRAMES",
    "DEFAULT_OVERLAP",
    "Chunk",
    "check_chunk_frames",
    "plan_chunks",
]

#: Frames per Ray task: long enough that the overlap adds little work (16 in 96, a sixth),
#: short enough that a clip of half a minute keeps several nodes busy.
DEFAULT_CHUNK_FRAMES = 96
#: Frames stylized before each chunk, so that its strokes are held when it begins; over
#: them the chunk before dissolves into it (docs/cluster.md).
DEFAULT_OVERLAP = 16


@dataclass(frozen=True)
class Chunk:
    """`frames` consecutive frames of a clip from frame `number` (counted from 0), by their
    times: `start` <= time < `end` (None: to the end). The blend warms up over the `overlap`
    frames before, from time `warm_from`."""

    number: int
    frames: int
    start: int
    end: int | None
    overlap: int
    warm_from: int

    def shown(self) -> str:
        """'frames 65 to 128', counted from 1 as a player does."""
        return f"frames {self.number + 1} to {self.number + self.frames}"


def check_chunk_frames(chunk_frames: int) -> int:
    """`chunk_frames`, or OptionError unless it is a whole number of at least 1."""
    if not (isinstance(chunk_frames, int) and chunk_frames >= 1):
        raise OptionError(
            "{0} must be a whole number of at least 1, not {value}",
            "chunk_frames",
            value=chunk_frames,
        )
    return chunk_frames


def plan_chunks(times: list[int], chunk_frames: int, overlap: int) -> list[Chunk]:
    """The chunks of a clip whose frames are shown at `times` (sorted), `chunk_frames` each,
    the blend of each warming up over the `overlap` frames before it."""
    chunks = []
    for first in range(0, len(times), chunk_frames):
        after = first + chunk_frames
        end = times[after] if after < len(times) else None
        warm = max(0, first - overlap)
        frames = min(chunk_frames, len(times) - first)
        chunks.append(Chunk(first, frames, times[first], end, first - warm, times[warm]))
    return chunks
