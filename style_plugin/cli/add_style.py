"""The `add-style` command: a painting in, a new style in the user model folder out."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from style_plugin.cli.app import EXIT_INTERRUPTED, Command, app, fail, require_torch
from style_plugin.cli.batch_options import AllowLargeOption
from style_plugin.cli.progress import ProgressDisplay, TrainingProgress
from style_plugin.training.config import NEW_STYLE_STEPS
from style_plugin.training.watching import (
    LIVE_PREVIEW_EVERY,
    LIVE_PREVIEW_SIDE,
    RemainingTime,
    expected_time,
)


class _SaysHowLong(Command):
    """add-style's help, ending with how long a new style takes on this machine: read when
    the help is shown, as the last training here may have measured it since."""

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        described = self.help
        self.help = f"{described}\n\n{expected_time(NEW_STYLE_STEPS)}"
        try:
            super().format_help(ctx, formatter)
        finally:
            self.help = described


@app.command("add-style", cls=_SaysHowLong)
def add_style(
    style: Annotated[
        str,
        typer.Argument(metavar="NAME=PAINTING", help="The new style's name and its painting."),
    ],
    label: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Label shown in the editors. Default: from NAME."),
    ] = None,
    base: Annotated[
        str,
        typer.Option(
            "--from", metavar="MODEL", help="Model to add to: bundled, a run folder or checkpoint."
        ),
    ] = "bundled",
    trunk: Annotated[
        str,
        typer.Option(
            metavar="tuned|frozen",
            help="tuned: the model's trunk trains too (looks like the painting sooner); "
            "frozen: only the new style's parameters (it then mixes with the bundled styles).",
        ),
    ] = "tuned",
    photos: Annotated[
        Path | None,
        typer.Option(
            metavar="FOLDER", help="Photos to learn on. Default: the package's sample photos."
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            metavar="N", help=f"Training steps (4 crops each). Default: {NEW_STYLE_STEPS}."
        ),
    ] = None,
    keep_borders: Annotated[
        bool,
        typer.Option(
            "--keep-borders",
            help="Keep the painting's frame, border or margin, which is otherwise found and "
            "cut off (for a painting whose border is part of it).",
        ),
    ] = False,
    device: Annotated[
        str, typer.Option(metavar="DEVICE", help="auto (CUDA if available), cpu, cuda or cuda:N.")
    ] = "auto",
    overwrite: Annotated[
        bool, typer.Option(help="Replace an installed style model of the same name.")
    ] = False,
    allow_large: AllowLargeOption = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar or log lines.")
    ] = False,
    preview: Annotated[
        Path | None,
        typer.Option(
            metavar="PHOTO",
            help=f"Draw this photo in the style as it is learnt, every {LIVE_PREVIEW_EVERY} "
            f"steps and at the end: NAME-preview.png (at most {LIVE_PREVIEW_SIDE} px a side) "
            "beside the run in the user runs folder.",
        ),
    ] = None,
    json_progress: Annotated[
        bool,
        typer.Option(
            "--json-progress",
            help="Report on stdout as JSON lines (steps with the seconds left, previews, then "
            "the result) for programs that run this command, such as the editors' plug-ins.",
        ),
    ] = False,
) -> None:
    """Add a style from a painting, installed for every editor.

    It starts from the bundled model (or --from) and its style nearest the painting, and tunes it to the painting: minutes on a laptop's CPU, not hours. The style is installed in the user model folder, where `models`, the Python API, Krita and GIMP find it.

    Interrupted (Ctrl-C), it keeps its checkpoint: the same command goes on from there."""
    require_torch()
    from style_plugin.training.data import parse_style_specs
    from style_plugin.training.trainer import RunOptions
    from style_plugin.workflows.new_style import add_style as add

    if steps is not None and steps < 1:
        fail("--steps must be >= 1")
    ((name, painting),) = parse_style_specs([style]).items()
    total = steps or NEW_STYLE_STEPS
    display = ProgressDisplay(quiet or json_progress, "training")
    progress: TrainingProgress | JsonProgress = (
        JsonProgress() if json_progress else TrainingProgress(display)
    )
    options = RunOptions(
        device=device,
        allow_large=allow_large,
        on_progress=progress.on_progress,
        on_live_preview=progress.on_live_preview,
        on_note=display.tell,
    )
    with display:
        display.prepare("preparing")
        added = add(
            name,
            painting,
            label=label,
            base=base,
            trunk=trunk,
            photos=photos,
            steps=total,
            options=options,
            overwrite=overwrite,
            settings={"keep_borders": True} if keep_borders else None,
            preview=preview,
        )
    if added.model is None:
        step = added.summary.step if added.summary else 0
        if json_progress:
            report({"event": "interrupted", "step": step, "run": str(added.run_dir)})
        typer.echo(
            f"interrupted at step {step}; the same command goes on from there "
            f"(run kept in {added.run_dir})",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED)
    if json_progress:
        report({"event": "added", "style": name, "model": str(added.model)})
        return
    typer.echo(f"added style {name!r}: {added.model} (see `style-plugin models`)")


class JsonProgress:
    """A run's reports as JSON lines (--json-progress): every step, so that a progress bar in
    an editor moves with each one, with the seconds left (`eta_s`) from the pace of the recent
    steps; and every live preview written."""

    def __init__(self) -> None:
        self.remaining = RemainingTime()

    def on_progress(self, step: int, total: int, record: dict[str, Any] | None) -> None:
        left = self.remaining.update(step, total, time.perf_counter())
        if left is not None:  # None as the run starts: no step done yet
            report({"event": "step", "step": step, "total": total, "eta_s": round(left, 1)})

    def on_live_preview(self, step: int, path: Path) -> None:
        report({"event": "preview", "step": step, "path": str(path)})


def report(event: dict[str, Any]) -> None:
    """One JSON line on stdout, flushed at once: the reading program shows it as it comes.
    A reader that has gone (an editor's plug-in killed by its Cancel) ends the reports, not
    the training: stdout then leads nowhere, so the run still keeps its checkpoint."""
    try:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        nowhere = os.open(os.devnull, os.O_WRONLY)
        os.dup2(nowhere, sys.stdout.fileno())
        os.close(nowhere)
