"""What the batch commands (`stylize`, `filter`) share: options, progress display, the run.

The option types are `Annotated` aliases, so both commands take `-o`, `--format`, `--quality`,
`--suffix`, `--recursive`, `--skip-existing`, `--overwrite`, `--jobs`, `--allow-large` and
`-q` with the same meaning and help; `plan_batch` collects and plans the inputs,
`run_planned` runs them behind a progress display and turns the report into the summary line
and the exit status. The runtime names options, never flags: its errors and failure reasons
are given the flags (and the advice) here. Every line that names a file goes out through
`contract.printable`, so a file name cannot forge lines of its own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from style_plugin.cli.app import EXIT_INTERRUPTED, fail
from style_plugin.contract import printable
from style_plugin.runtime.report import Problem, Reason

if TYPE_CHECKING:
    from style_plugin.plugins import Registry
    from style_plugin.runtime.options import BatchOptions
    from style_plugin.runtime.outputs import Plan
    from style_plugin.runtime.report import BatchReport

#: An engine's batch run with its work bound: run(plans, options, events, verb=...) -> report.
BatchRun = Callable[..., "BatchReport"]

__all__ = [
    "AllowLargeOption",
    "BatchDisplay",
    "BatchRun",
    "FormatOption",
    "InputsArgument",
    "JobsOption",
    "OutputOption",
    "OverwriteOption",
    "QualityOption",
    "QuietOption",
    "RecursiveOption",
    "SkipExistingOption",
    "SuffixOption",
    "load_plugins",
    "make_options",
    "plan_batch",
    "run_planned",
]

InputsArgument = Annotated[
    list[str],
    typer.Argument(
        metavar="INPUT",
        help="Image files, folders and glob patterns; quote globs: 'photos/**/*.jpg'.",
        show_default=False,
    ),
]
OutputOption = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="PATH",
        help="A folder, mirroring the input tree (end a new one with /), or an image file "
        "name (.png, .jpg, .webp, .tif) for one input. Default: beside each input.",
    ),
]
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT",
        help="Output format: png, jpeg, webp or tiff. "
        "Default: the input's, or png for GIF and formats not worth writing.",
    ),
]
QualityOption = Annotated[
    int | None,
    typer.Option(
        metavar="1..100", help="JPEG or WebP quality. Default: 95 (JPEG), Pillow's (WebP)."
    ),
]
SuffixOption = Annotated[
    str | None,
    typer.Option(
        metavar="TEXT",
        help="Added to each output's file name: by default -stylized, or -NAME for filter NAME, "
        "and nothing in an -o folder.",
    ),
]
RecursiveOption = Annotated[
    bool, typer.Option("--recursive", "-r", help="Also take images in sub-folders.")
]
SkipExistingOption = Annotated[
    bool,
    typer.Option("--skip-existing", help="Leave existing outputs alone and count them as skipped."),
]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace existing outputs, never inputs.")
]
JobsOption = Annotated[
    int,
    typer.Option(
        "--jobs",
        "-j",
        metavar="N",
        help="Threads decoding and encoding images around the model or filter, "
        "which runs one image at a time.",
    ),
]
AllowLargeOption = Annotated[
    bool,
    typer.Option(
        "--allow-large",
        help="Open images over Pillow's 89-megapixel decompression-bomb limit; "
        "only for files you trust.",
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="No progress bar, provider line, plugin warnings or notes; failures still shown.",
    ),
]


_QUALITY_FORMATS = ("jpeg", "jpg", "webp")

#: How the shared options (`BatchOptions` fields, as the runtime's errors name them) are spelled
#: on the command line.
FLAGS = {
    "output": "-o",
    "format": "--format",
    "quality": "--quality",
    "suffix": "--suffix",
    "skip_existing": "--skip-existing",
    "overwrite": "--overwrite",
    "jobs": "--jobs",
}

#: What a failed item's line adds, for the problems a shared flag avoids.
ADVICE = {
    Problem.SUBFOLDERS_NOT_SEARCHED: " (pass --recursive to look in sub-folders)",
    Problem.OUTPUT_EXISTS: "; pass --overwrite or --skip-existing",
    Problem.OUTPUT_IS_AN_INPUT: "; change --suffix or -o",
    Problem.OUTPUT_SHARED: "; pass --format or -o to tell them apart",
    Problem.TRANSPARENCY_LOST: "; write it as png, webp or tiff (--format, or the -o name)",
}


@contextmanager
def _flags_named() -> Iterator[None]:
    """Turn a runtime `OptionError` into the CLI's one-line error, naming flags."""
    from style_plugin.runtime.options import OptionError

    try:
        yield
    except OptionError as exc:
        fail(exc.naming(FLAGS))


def load_plugins(quiet: bool) -> Registry:
    """The plugin registry (styles of installed style packs, filters); unless `quiet`, one
    warning line on stderr for each plugin that was skipped."""
    from style_plugin.plugins import registry

    found = registry()
    if not quiet:
        for broken in found.broken:
            typer.echo(f"warning: {broken.describe()}", err=True)
    return found


def make_options(
    *,
    output: str | None,
    output_format: str | None,
    quality: int | None,
    **fields: Any,
) -> BatchOptions:
    """`BatchOptions` from the shared command-line values (`fields`: the rest, by name);
    notes on stderr when --quality cannot apply to the chosen format."""
    from style_plugin.runtime.options import BatchOptions

    with _flags_named():
        options = BatchOptions(
            output=Path(output) if output else None,
            output_is_dir=bool(output) and output.endswith(("/", "\\")),
            format=output_format,
            quality=quality,
            **fields,
        )
    if quality is not None and output_format and output_format.lower() not in _QUALITY_FORMATS:
        typer.echo(f"note: --quality applies to JPEG and WebP only, not {output_format}", err=True)
    return options


def plan_batch(inputs: list[str], recursive: bool, options: BatchOptions) -> Plan:
    """The inputs' files with their outputs planned, and planning's notes (see `plan_outputs`)."""
    from style_plugin.runtime.inputs import collect_inputs
    from style_plugin.runtime.outputs import plan_outputs

    with _flags_named():
        return plan_outputs(collect_inputs(inputs, recursive), options)


def run_planned(
    run: BatchRun,
    plans: Plan,
    options: BatchOptions,
    *,
    quiet: bool,
    verb: str = "stylized",
    steps: str = "tile",
    advice: Mapping[Problem, str] | None = None,
) -> None:
    """Run a planned batch with `run` (`run_batch` with its job bound, or another engine's
    like function) behind a `BatchDisplay` (planning's notes first), print its summary line,
    and exit 1 when any item failed (130 on Ctrl-C, after the summary of what was done).
    `advice` adds to `ADVICE` for the command's own flags."""
    display = BatchDisplay(quiet, steps, {**ADVICE, **(advice or {})})
    for note in plans.notes:
        display.note(note)
    try:
        report = run(plans, options, display, verb=verb)
    except KeyboardInterrupt:
        if display.report is not None:
            typer.echo(f"interrupted: {display.report.summary()}", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)


class BatchDisplay:
    """What a batch shows while it runs: a rich progress bar on a terminal, else lines.

    Failures always go to stderr (also with --quiet), with the `advice` for their problem;
    notes (animated inputs) unless --quiet; file names escaped (`printable`). The bar moves
    with the steps within an image too, which `steps` names ('tile' for stylize).
    Implements the `BatchEvents` interface of style_plugin.runtime.report.
    """

    def __init__(
        self, quiet: bool, steps: str = "tile", advice: Mapping[Problem, str] = ADVICE
    ) -> None:
        self.quiet = quiet
        self.steps = steps
        self.advice = advice
        self.report: BatchReport | None = None  # set when the batch ends (also on Ctrl-C)
        self.done = 0
        self.ended = 0  # items done, skipped or failed
        self.working_on: Path | None = None
        self.share = 0.0  # of the image being worked on, by its steps
        self.started = 0.0
        self.progress = None
        self.task = None
        if not quiet and sys.stderr.isatty():
            try:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    SpinnerColumn,
                    TextColumn,
                    TimeRemainingColumn,
                )
            except ImportError:  # typer without rich: plain lines
                return
            self.progress = Progress(
                SpinnerColumn(),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}", markup=False),
                TimeRemainingColumn(),
                TextColumn("{task.fields[current]}", markup=False),
                console=Console(stderr=True),
                transient=True,
            )

    def _print(self, line: str) -> None:
        line = printable(line)
        if self.progress is not None:
            self.progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            typer.echo(line, err=True)

    def begin(self, total: int) -> None:
        import time

        self.started = time.perf_counter()
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("batch", total=total, rate="", current="")

    def working(self, path: Path) -> None:
        self.working_on, self.share = path, 0.0
        self._advance(current=printable(str(path)))

    def tiles(self, done: int, total: int) -> None:
        self.share = done / total if total else 0.0
        steps = f" ({self.steps} {done}/{total})" if total > 1 else ""
        self._advance(current=printable(str(self.working_on)) + steps)

    def finished(self, path: Path, status: str, detail: str) -> None:
        import time

        if status == "failed":
            problem = detail.problem if isinstance(detail, Reason) else None
            self._print(f"failed: {path}: {detail}{self.advice.get(problem, '')}")
        if status == "done":
            self.done += 1
        self.ended += 1
        if path == self.working_on:
            self.working_on, self.share = None, 0.0
        elapsed = time.perf_counter() - self.started
        rate = f"{self.done / elapsed:.2f} images/s" if self.done and elapsed > 0 else ""
        self._advance(rate=rate)

    def _advance(self, **fields: str) -> None:
        """Fill the bar to the items ended plus the share of the image being worked on, and
        set the task's text `fields` (current, rate)."""
        if self.progress is not None:
            self.progress.update(self.task, completed=self.ended + self.share, **fields)

    def note(self, message: str) -> None:
        if not self.quiet:
            self._print(f"note: {message}")

    def end(self, report: BatchReport) -> None:
        self.report = report
        if self.progress is not None:
            self.progress.stop()
