"""The `stylize` command: batches of files, folders and globs through a style model."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from style_plugin.cli.app import EXIT_INTERRUPTED, app, fail

if TYPE_CHECKING:
    from style_plugin.runtime.batch import BatchReport


class _BatchDisplay:
    """What `stylize` shows while a batch runs: a rich progress bar on a terminal, else lines.

    Failures always go to stderr (also with --quiet); notes (animated inputs) unless --quiet.
    Implements the `BatchEvents` interface of style_plugin.runtime.batch.
    """

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.report: BatchReport | None = None  # set when the batch ends (also on Ctrl-C)
        self.done = 0
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
        if self.progress is not None:
            self.progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            typer.echo(line, err=True)

    def begin(self, total: int) -> None:
        import time

        self.started = time.perf_counter()
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("stylize", total=total, rate="", current="")

    def working(self, path: Path) -> None:
        if self.progress is not None:
            self.progress.update(self.task, current=str(path))

    def tiles(self, done: int, total: int) -> None:
        if self.progress is not None and total > 1:
            self.progress.update(self.task, current=f"tile {done}/{total}")

    def finished(self, path: Path, status: str, detail: str) -> None:
        import time

        if status == "failed":
            self._print(f"failed: {path}: {detail}")
        if status == "done":
            self.done += 1
        if self.progress is not None:
            elapsed = time.perf_counter() - self.started
            rate = f"{self.done / elapsed:.2f} images/s" if self.done and elapsed > 0 else ""
            self.progress.update(self.task, advance=1, rate=rate)

    def note(self, message: str) -> None:
        if not self.quiet:
            self._print(f"note: {message}")

    def end(self, report: BatchReport) -> None:
        self.report = report
        if self.progress is not None:
            self.progress.stop()


@app.command()
def stylize(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Image files, folders and glob patterns (quote them: 'photos/**/*.jpg').",
            show_default=False,
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Output folder (mirrors the input tree), or a file name for a single input. Default: beside each input, named <stem><suffix><ext>.",
        ),
    ] = None,
    style: Annotated[
        str | None,
        typer.Option(
            "--style",
            "-s",
            help="Style name, or a mix such as starry-night=0.7,the_scream=0.3 (see `style-plugin models`). Default: the model's first style.",
        ),
    ] = None,
    strength: Annotated[
        float, typer.Option(help="How much style, 0..1: 0 gives the photo back, 1 full style.")
    ] = 1.0,
    preserve_colors: Annotated[
        bool,
        typer.Option(
            "--preserve-colors", help="Keep the photo's colours; take only the style's luminance."
        ),
    ] = False,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            "-m",
            help="A style model file (.onnx). Default: the installed model holding --style.",
        ),
    ] = None,
    device: Annotated[
        str,
        typer.Option(
            help="Where to run: auto (CUDA when it really works here), cuda, tensorrt or cpu."
        ),
    ] = "auto",
    threads: Annotated[int, typer.Option(help="onnxruntime CPU threads; 0 = one per core.")] = 0,
    tile_size: Annotated[
        int | None,
        typer.Option(
            help="Largest tile side in pixels; bigger images run in seamless tiles (memory). Default: 1024."
        ),
    ] = None,
    max_side: Annotated[
        int | None,
        typer.Option(help="Scale images down first so the longer side is at most this (speed)."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Output format: png, jpeg, webp or tiff. Default: the input's own (PNG for GIF and other formats not worth writing).",
        ),
    ] = None,
    quality: Annotated[
        int | None,
        typer.Option(help="JPEG / WebP quality 1..100. Default: 95 for JPEG, Pillow's for WebP."),
    ] = None,
    suffix: Annotated[
        str | None,
        typer.Option(
            help="Added to each output's file name. Default: -stylized beside the inputs, nothing in an -o folder."
        ),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Also take images in sub-folders.")
    ] = False,
    skip_existing: Annotated[
        bool,
        typer.Option(
            "--skip-existing", help="Leave existing outputs alone and count them as skipped."
        ),
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace existing outputs (never an input).")
    ] = False,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            help="Threads decoding and encoding images while the model runs (it runs one image at a time).",
        ),
    ] = 2,
    allow_large: Annotated[
        bool,
        typer.Option(
            "--allow-large",
            help="Lift Pillow's decompression-bomb limit (about 89 megapixels) for files you trust.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress bar, provider line or notes; failures still shown."
        ),
    ] = False,
) -> None:
    """Stylize image files, folders and glob patterns; a bad file is reported and the rest go on.

    Exit status: 0 when every image was stylized or skipped, 1 when any failed, 130 on Ctrl-C.
    """
    import math

    from style_plugin.runtime.batch import BatchOptions, collect_inputs, plan_outputs, run_batch
    from style_plugin.runtime.stylizer import Stylizer

    if not (math.isfinite(strength) and 0.0 <= strength <= 1.0):
        fail(f"--strength must be between 0 and 1, got {strength:g}")
    if max_side is not None and max_side < 1:
        fail(f"--max-side must be a positive number of pixels, got {max_side}")
    options = BatchOptions(
        style=style,
        strength=strength,
        preserve_colors=preserve_colors,
        max_side=max_side,
        allow_large=allow_large,
        output=Path(output) if output else None,
        output_is_dir=bool(output) and output.endswith(("/", "\\")),
        format=output_format,
        quality=quality,
        suffix=suffix,
        skip_existing=skip_existing,
        overwrite=overwrite,
        jobs=jobs,
    )
    if (
        quality is not None
        and output_format
        and output_format.lower()
        not in (
            "jpeg",
            "jpg",
            "webp",
        )
    ):
        typer.echo(f"note: --quality applies to JPEG and WebP only, not {output_format}", err=True)
    tiles = {} if tile_size is None else {"tile_size": tile_size}
    stylizer = Stylizer(model, device=device, threads=threads, **tiles)
    chosen = stylizer.model_for(style)
    chosen.style_weights(style)  # an unknown style fails here, listing the known ones
    plans = plan_outputs(collect_inputs(inputs, recursive), options)
    if not quiet:
        typer.echo(f"{chosen.session.provider.describe()}; model: {chosen.path}", err=True)
    display = _BatchDisplay(quiet)
    try:
        report = run_batch(stylizer, plans, options, events=display)
    except KeyboardInterrupt:
        if display.report is not None:
            typer.echo(f"interrupted: {display.report.summary()}", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    typer.echo(report.summary())
    if report.failed:
        raise typer.Exit(1)
