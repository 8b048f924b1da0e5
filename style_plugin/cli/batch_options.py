"""What the batch commands (`stylize`, `filter`) share: options, planning, the run.

The option types are `Annotated` aliases, so both commands take `-o`, `--format`, `--quality`,
`--suffix`, `--recursive`, `--skip-existing`, `--overwrite`, `--jobs`, `--allow-large` and
`-q` with the same meaning and help; `plan_batch` collects and plans the inputs,
`run_planned` runs them behind the progress display (progress.py) and turns the report into
the summary line and the exit status. The runtime names options, never flags: its errors and
failure reasons are given the flags (and the advice) here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from style_plugin.cli.app import EXIT_INTERRUPTED, fail
from style_plugin.cli.progress import BatchProgress, ProgressDisplay
from style_plugin.runtime.report import Problem

if TYPE_CHECKING:
    from style_plugin.plugins import Registry
    from style_plugin.runtime.options import BatchOptions
    from style_plugin.runtime.outputs import Plan
    from style_plugin.runtime.report import BatchReport

#: An engine's batch run with its work bound: run(plans, options, events, verb=...) -> report.
BatchRun = Callable[..., "BatchReport"]

__all__ = [
    "AllowLargeOption",
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
    """The inputs' files with their outputs planned, and the notes of collecting them (see
    `collect_inputs`) and of planning (see `plan_outputs`)."""
    from style_plugin.runtime.inputs import collect_inputs
    from style_plugin.runtime.outputs import plan_outputs

    collected = collect_inputs(inputs, recursive)
    with _flags_named():
        plans = plan_outputs(collected, options)
    plans.notes[:0] = collected.notes
    return plans


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
    like function) behind the progress display (planning's notes first), print its summary
    line, and exit 1 when any item failed (130 on Ctrl-C, after the summary of what was done).
    `advice` adds to `ADVICE` for the command's own flags."""
    with ProgressDisplay(quiet) as display:
        events = BatchProgress(display, steps, {**ADVICE, **(advice or {})})
        for note in plans.notes:
            events.note(note)
        try:
            report = run(plans, options, events, verb=verb)
        except KeyboardInterrupt:
            if events.report is None:
                raise  # before the batch began: the command line says 'interrupted'
            typer.echo(f"interrupted: {events.report.summary()}", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
    typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)
