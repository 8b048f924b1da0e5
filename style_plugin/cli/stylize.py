"""The `stylize` command: batches of files, folders and globs through a style model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from style_plugin.cli.app import DeviceOption, app, fail
from style_plugin.cli.batch_options import (
    AllowLargeOption,
    FormatOption,
    InputsArgument,
    JobsOption,
    OutputOption,
    OverwriteOption,
    QualityOption,
    QuietOption,
    RecursiveOption,
    SkipExistingOption,
    SuffixOption,
    load_plugins,
    make_options,
    plan_batch,
    run_planned,
)
from style_plugin.contract import printable


@app.command()
def stylize(
    inputs: InputsArgument,
    output: OutputOption = None,
    style: Annotated[
        str | None,
        typer.Option(
            "--style",
            "-s",
            metavar="NAME",
            help="A style from `style-plugin models`, or a mix: starry-night=0.7,the-scream=0.3. "
            "Default: the model's first.",
        ),
    ] = None,
    strength: Annotated[
        float,
        typer.Option(metavar="0..1", help="How much style: 0 none, 1 full."),
    ] = 1.0,
    preserve_colors: Annotated[
        bool,
        typer.Option(
            "--preserve-colors", help="Keep the photo's colours; take only the style's luminance."
        ),
    ] = False,
    scale: Annotated[
        float,
        typer.Option(
            metavar="FACTOR",
            help="Stroke size relative to the image: 1 as on a 1024 px image at any size, 2 twice "
            "as large; 0: the model's own pixel size at full resolution.",
        ),
    ] = 1.0,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            "-m",
            metavar="FILE",
            help="A style model file (.onnx). Default: the installed one holding --style.",
        ),
    ] = None,
    device: DeviceOption = "auto",
    threads: Annotated[int, typer.Option(metavar="N", help="CPU threads; 0: one per core.")] = 0,
    tile_size: Annotated[
        int | None,
        typer.Option(
            metavar="PIXELS",
            help="Largest tile side; images over 2.5 tiles run in seamless tiles, to bound memory. "
            "Default: 1024.",
        ),
    ] = None,
    exact_tiles: Annotated[
        bool,
        typer.Option(
            "--exact-tiles",
            help="Tiled images match the untiled result within 0.02/255, not about 3/255, "
            "at 2-4x the time.",
        ),
    ] = False,
    max_side: Annotated[
        int,
        typer.Option(
            metavar="PIXELS",
            help="Scale images down first to at most this long side, for speed; 0: full size.",
        ),
    ] = 0,
    output_format: FormatOption = None,
    quality: QualityOption = None,
    suffix: SuffixOption = None,
    recursive: RecursiveOption = False,
    skip_existing: SkipExistingOption = False,
    overwrite: OverwriteOption = False,
    jobs: JobsOption = 2,
    allow_large: AllowLargeOption = False,
    quiet: QuietOption = False,
) -> None:
    """Stylize images, folders and glob patterns with a style model.

    A bad file is reported and the rest go on.

    Exit status: 0 when every image was stylized or skipped, 1 when any failed, 130 on Ctrl-C.
    """
    import math

    from style_plugin.runtime.jobs import stylize_job
    from style_plugin.runtime.report import Problem
    from style_plugin.runtime.stylizer import Stylizer

    if not (math.isfinite(strength) and 0.0 <= strength <= 1.0):
        fail(f"--strength must be between 0 and 1, got {strength:g}")
    if not (math.isfinite(scale) and scale >= 0):
        fail(f"--scale must be 0 (full resolution) or more, got {scale:g}")
    if max_side < 0:
        fail(f"--max-side must be a number of pixels, or 0 for full size; got {max_side}")
    options = make_options(
        output=output,
        output_format=output_format,
        quality=quality,
        allow_large=allow_large,
        suffix=suffix,
        skip_existing=skip_existing,
        overwrite=overwrite,
        jobs=jobs,
    )
    if model is None:
        load_plugins(quiet)  # the styles of installed style packs join the store
    tiles = {} if tile_size is None else {"tile_size": tile_size}
    stylizer = Stylizer(model, device=device, threads=threads, exact_tiles=exact_tiles, **tiles)
    chosen = stylizer.model_for(style)
    chosen.style_weights(style)  # an unknown style fails here, listing the known ones
    plans = plan_batch(inputs, recursive, options)
    if not quiet:
        line = f"{chosen.session.provider.describe()}; model: {chosen.path}"
        typer.echo(printable(line), err=True)
    job = stylize_job(
        stylizer,
        style,
        strength=strength,
        preserve_colors=preserve_colors,
        scale=scale,
        max_side=max_side or None,  # 0: full size, as in the Stylize filter and the hosts
    )
    advice = {Problem.OUT_OF_MEMORY: " (try --max-side or a smaller --tile-size)"}
    run_planned(job, plans, options, quiet=quiet, advice=advice)
