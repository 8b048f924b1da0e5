"""What a batch tells its caller: why items failed, events as it goes, and the final report.

Failure reasons say what went wrong and never how to set an option: a `Reason` tagged with a
`Problem` lets each front end add its own advice (the CLI names the flag that avoids it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from style_plugin.contract import printable
from style_plugin.errors import StylePluginError, one_line

__all__ = ["BatchEvents", "BatchReport", "Problem", "Reason", "failure_reason"]


class Problem(Enum):
    """A failure that the caller could avoid by asking differently."""

    SUBFOLDERS_NOT_SEARCHED = "a folder's sub-folders were not searched; they may hold images"
    OUTPUT_EXISTS = "the output exists; it may be overwritten or the item skipped"
    OUTPUT_IS_AN_INPUT = "the output is another input; another suffix or folder avoids it"
    OUTPUT_SHARED = "two inputs have one output; another format or folder avoids it"
    TRANSPARENCY_LOST = "the output format cannot hold the input's transparency; another can"
    OUT_OF_MEMORY = "out of memory; smaller images or tiles may fit"


class Reason(str):
    """A failed item's one-line reason, tagged with the `Problem` it is, if one fits."""

    problem: Problem | None

    def __new__(cls, text: str, problem: Problem | None = None) -> Reason:
        reason = super().__new__(cls, text)
        reason.problem = problem
        return reason


def failure_reason(exc: BaseException, path: Path) -> str:
    """One short line for an item that failed with `exc`, without repeating its path first."""
    if isinstance(exc, MemoryError):
        return Reason("out of memory", Problem.OUT_OF_MEMORY)
    if isinstance(exc, OSError) and not isinstance(exc, StylePluginError):
        text = (exc.strerror or one_line(exc, limit=1000)).strip()
        if exc.filename and str(exc.filename) not in text:
            text = f"{text}: {exc.filename}"
    else:
        text = one_line(exc, limit=1000, named=not isinstance(exc, StylePluginError))
    shown = printable(str(path))
    for prefix in (f"{path}: ", f"{path} ", f"{shown}: ", f"{shown} "):
        if text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix) :]
    return text


@dataclass
class BatchReport:
    """What a batch did: (input, output) pairs done and skipped, (input, reason) failed.

    `verb` names the work in `summary()` and notes ('stylized', 'filtered').
    """

    done: list[tuple[Path, Path]] = field(default_factory=list)
    skipped: list[tuple[Path, Path]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False
    verb: str = "stylized"

    @property
    def images_per_second(self) -> float:
        return len(self.done) / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """One line: 'stylized 8 images in 12.3 s (0.65 images/s); skipped 1; failed 2'."""
        count = len(self.done)
        line = f"{self.verb} {count} image{'' if count == 1 else 's'} in {self.seconds:.1f} s"
        if count:
            line += f" ({self.images_per_second:.2f} images/s)"
        if self.skipped:
            line += f"; skipped {len(self.skipped)}"
        if self.failed:
            line += f"; failed {len(self.failed)}"
        if self.cancelled:
            line += "; cancelled"
        return line


class BatchEvents:
    """What a batch tells its caller as it goes (a progress bar, a log); every method is a no-op.

    Called from the thread that runs `run_batch`. `status` is 'done', 'skipped' or 'failed';
    `detail` is the output path (done, skipped) or the reason (failed, a `Reason` when tagged).
    """

    def begin(self, total: int) -> None:
        """The batch has `total` items (failed and skipped ones included)."""

    def working(self, path: Path) -> None:
        """The job starts on `path`."""

    def tiles(self, done: int, total: int) -> None:
        """Steps finished within the current image (big images run in several tiles)."""

    def finished(self, path: Path, status: str, detail: str) -> None:
        """One item is done, skipped or failed."""

    def note(self, message: str) -> None:
        """Something worth telling that is not a failure (animated input, ...)."""

    def end(self, report: BatchReport) -> None:
        """The batch is over (also after a cancel)."""
