"""What a long command shows while it works: the batch commands (`stylize`, `filter`) and the
training ones (`train`, `add-style`) share one display.

On a terminal it is a rich progress bar on stderr; elsewhere (a log, a pipe) plain lines; with
--quiet neither, but failures are always shown. Every line goes out through
`contract.printable`, so a file name cannot forge lines of its own. `BatchProgress` feeds it
a batch's events, `TrainingProgress` a training run's reports.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import typer

from style_plugin.contract import printable
from style_plugin.runtime.report import BatchEvents, Problem, Reason
from style_plugin.training.watching import RemainingTime, time_left_text

if TYPE_CHECKING:
    from rich.progress import Progress, Task, TaskID
    from rich.text import Text

    from style_plugin.runtime.report import BatchReport

__all__ = ["BatchProgress", "ProgressDisplay", "TrainingProgress"]


class ProgressDisplay:
    """A bar with a count, a rate, the time left and what is being worked on, on a terminal;
    lines elsewhere. `description` names the work at the bar's left ("training")."""

    def __init__(self, quiet: bool, description: str = "") -> None:
        self.quiet = quiet
        self.description = description
        #: The rich bar: on a terminal, unless quiet.
        self.bar: Progress | None = None
        self._task: TaskID | None = None
        self._preparing = False
        if not quiet and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            class TimeLeftColumn(TimeRemainingColumn):
                """rich's time left, or the work's own estimate where it gives one (the
                `left_s` field, seconds: a training's, from the pace of its recent steps)."""

                def render(self, task: Task) -> Text:
                    left = task.fields.get("left_s")
                    if left is None:
                        return super().render(task)
                    from rich.text import Text

                    minutes, seconds = divmod(int(left), 60)
                    hours, minutes = divmod(minutes, 60)
                    return Text(f"{hours:d}:{minutes:02d}:{seconds:02d}", "progress.remaining")

            self.bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}", markup=False),
                TimeLeftColumn(),
                TextColumn("{task.fields[current]}", markup=False),
                console=Console(stderr=True),
                transient=True,
            )

    @property
    def plain(self) -> bool:
        """Whether progress goes out as lines: not quiet, and stderr is no terminal."""
        return not self.quiet and self.bar is None

    def prepare(self, status: str) -> None:
        """Show the bar before the work's size is known, `status` at its left ("preparing"),
        so that a slow set-up shows; `start` then gives it its size and description."""
        if self.bar is not None and self._task is None:
            self._task = self.bar.add_task(status, total=None, rate="", current="")
            self._preparing = True
            self.bar.start()

    def start(self, total: float, completed: float = 0) -> None:
        """Show the bar, out of `total` (once; later calls change nothing, except to size a
        prepared bar)."""
        if self.bar is None:
            return
        if self._task is None:
            self._task = self.bar.add_task(
                self.description, total=total, completed=completed, rate="", current=""
            )
            self.bar.start()
        elif self._preparing:  # the time left is measured from here: set-up is not work
            self.bar.reset(
                self._task, total=total, completed=completed, description=self.description
            )
        self._preparing = False

    def update(self, completed: float, **fields: str | float | None) -> None:
        """Fill the bar to `completed` and set its `fields` (rate, current; left_s, the
        seconds left where the work estimates them itself)."""
        if self.bar is not None and self._task is not None:
            self.bar.update(self._task, completed=completed, **fields)

    def stop(self) -> None:
        """Take the bar away (it can start again)."""
        if self.bar is not None:
            self.bar.stop()

    def __enter__(self) -> ProgressDisplay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def show(self, line: str) -> None:
        """A line on stderr (above the bar), also when quiet: for failures."""
        line = printable(line)
        if self.bar is not None:
            self.bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            typer.echo(line, err=True)

    def tell(self, line: str) -> None:
        """A line on stderr unless quiet: notes, and progress where there is no bar."""
        if not self.quiet:
            self.show(line)


class BatchProgress(BatchEvents):
    """A batch's events on a `ProgressDisplay`: the bar counts the images and moves with the
    steps within an image too, which `steps` names ('tile' for stylize).

    Failures are shown always, notes (animated inputs, sub-folders not searched) unless
    quiet; each with the `advice` for its problem.
    """

    def __init__(
        self,
        display: ProgressDisplay,
        steps: str = "tile",
        advice: Mapping[Problem, str] | None = None,
    ) -> None:
        self.display = display
        self.steps = steps
        self.advice = advice or {}
        self.report: BatchReport | None = None  # set when the batch ends (also on Ctrl-C)
        self.done = 0
        self.ended = 0  # items done, skipped or failed
        self.working_on: Path | None = None
        self.share = 0.0  # of the image being worked on, by its steps
        self.started = 0.0

    def begin(self, total: int) -> None:
        self.started = time.perf_counter()
        self.display.start(total)

    def working(self, path: Path) -> None:
        self.working_on, self.share = path, 0.0
        self._advance(current=printable(str(path)))

    def tiles(self, done: int, total: int) -> None:
        self.share = done / total if total else 0.0
        steps = f" ({self.steps} {done}/{total})" if total > 1 else ""
        self._advance(current=printable(str(self.working_on)) + steps)

    def finished(self, path: Path, status: str, detail: str) -> None:
        if status == "failed":
            self.display.show(f"failed: {path}: {self._advised(detail)}")
        if status == "done":
            self.done += 1
        self.ended += 1
        if path == self.working_on:
            self.working_on, self.share = None, 0.0
        elapsed = time.perf_counter() - self.started
        rate = f"{self.done / elapsed:.2f} images/s" if self.done and elapsed > 0 else ""
        self._advance(rate=rate)

    def _advance(self, **fields: str) -> None:
        """Fill the bar to the items ended plus the share of the image being worked on."""
        self.display.update(self.ended + self.share, **fields)

    def note(self, message: str) -> None:
        self.display.tell(f"note: {self._advised(message)}")

    def _advised(self, text: str) -> str:
        """`text` with the advice for its problem, where it is a `Reason` that has one."""
        problem = text.problem if isinstance(text, Reason) else None
        return f"{text}{self.advice.get(problem, '')}"

    def end(self, report: BatchReport) -> None:
        self.report = report
        self.display.stop()


class TrainingProgress:
    """A training run's reports on a `ProgressDisplay`: pass `on_progress`, `on_note` and
    `on_live_preview` to `RunOptions`. The bar moves with each step and shows the latest
    losses and the time left, from the pace of the recent steps (`RemainingTime`); without a
    bar, a line at each metrics record, the time left in it."""

    def __init__(self, display: ProgressDisplay) -> None:
        self.display = display
        self.remaining = RemainingTime()

    def on_progress(self, step: int, total: int, record: Mapping[str, Any] | None) -> None:
        self.display.start(total, completed=step)
        left = self.remaining.update(step, total, time.perf_counter())
        if record is None:
            self.display.update(step, left_s=left)
            return
        losses = (
            f"content {record['content']:.3f}  style {record['style']:.3f}  "
            f"adv {record['adversarial']:.3f}  D {record['discriminator']:.3f}"
        )
        if record.get("stability"):
            losses += f"  stability {record['stability']:.2f}"
        rate = f"{record['images_per_s']:.1f} img/s"
        self.display.update(step, rate=rate, current=losses, left_s=left)
        if self.display.plain:
            said_left = f"  {time_left_text(left)}" if left is not None else ""
            self.display.tell(f"step {step}/{total}  {losses}  {rate}{said_left}")

    def on_note(self, message: str) -> None:
        self.display.tell(message)

    def on_live_preview(self, step: int, path: Path) -> None:
        self.display.tell(f"step {step}: preview drawn in {path}")
