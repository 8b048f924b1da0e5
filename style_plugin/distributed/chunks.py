"""How a clip is cut into chunks of consecutive frames for the Ray engine, each painted by one
task. Light to import: the command line's help reads the default."""

from __future__ import annotations

from dataclasses import dataclass

from style_plugin.runtime.options import OptionError

__all__ = [
    "DEFAULT_CHUNK_FRAMES",
    "Chunk",
    "check_chunk_frames",
    "plan_chunks",
]

#: Frames per Ray task: long enough that a task's start (opening the clip, seeking, the
#: model's session) is little of its work, short enough that a clip of half a minute keeps
#: several nodes busy.
DEFAULT_CHUNK_FRAMES = 96


@dataclass(frozen=True)
class Chunk:
    """`frames` consecutive frames of a clip from frame `number` (counted from 0), by their
    times: `start` <= time < `end` (None: to the end)."""

    number: int
    frames: int
    start: int
    end: int | None

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


def plan_chunks(times: list[int], chunk_frames: int) -> list[Chunk]:
    """The chunks of a clip whose frames are shown at `times` (sorted), `chunk_frames` each."""
    chunks = []
    for first in range(0, len(times), chunk_frames):
        after = first + chunk_frames
        end = times[after] if after < len(times) else None
        frames = min(chunk_frames, len(times) - first)
        chunks.append(Chunk(first, frames, times[first], end))
    return chunks
