"""The `stylize` command: batches of files, folders and globs through a style model."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from style_plugin.distributed.chunks import DEFAULT_CHUNK_FRAMES, check_chunk_frames
from style_plugin.runtime.settings import DEFAULT_SCALE, DEFAULT_STRENGTH, SCALE_RANGE
from style_plugin.video.defaults import (
    ANIMATION_SUFFIXES,
    CLIP_SUFFIXES,
    CRF_RANGE,
    DEFAULT_CRF,
    DEFAULT_HOLD,
    check_crf,
    check_hold,
    is_clip,
)

if TYPE_CHECKING:
    from style_plugin.distributed.portable import PortableJob
    from style_plugin.runtime.settings import StyleSettings
    from style_plugin.runtime.stylizer import Stylizer

#: Where `stylize` runs its batch.
ENGINES = ("local", "ray")


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
        typer.Option(metavar="0..1", help="How much style: 0 none, 1 the model's output alone."),
    ] = DEFAULT_STRENGTH,
    preserve_colors: Annotated[
        bool,
        typer.Option(
            "--preserve-colors", help="Keep the photo's colours; take only the style's luminance."
        ),
    ] = False,
    scale: Annotated[
        float,
        typer.Option(
            metavar="{:g}..{:g}".format(*SCALE_RANGE),
            help="Stroke size relative to the image: 1 as on a 1024 px image at any size, 2 twice "
            "as large; 0: the model's own pixel size at full resolution.",
        ),
    ] = DEFAULT_SCALE,
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
            help="Tiled images: every layer's statistics from the whole image, closer to the "
            "untiled result, at several times the time.",
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
    engine: Annotated[
        str,
        typer.Option(
            metavar="ENGINE",
            help="local: this machine; ray: a Ray cluster's nodes, one image or one chunk of "
            "a clip's frames per task (--threads CPUs each; needs the ray extra).",
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="With --engine ray: the cluster (auto, HOST:PORT or ray://HOST:PORT). "
            "Default: RAY_ADDRESS, else a Ray started on this machine.",
        ),
    ] = None,
    temporal: Annotated[
        bool | None,
        typer.Option(
            "--temporal/--no-temporal",
            help="Stylize the inputs as one sequence of frames, holding strokes along the "
            "motion so they do not flicker: on for video clips unless --no-temporal; for "
            "numbered frames (a folder), pass --temporal (they run in numeric order).",
            show_default=False,
        ),
    ] = None,
    hold: Annotated[
        float,
        typer.Option(
            metavar="0..1",
            help="How strongly strokes are held from frame to frame where the motion is "
            "reliable: 0 frame by frame, higher steadier.",
        ),
    ] = DEFAULT_HOLD,
    crf: Annotated[
        int,
        typer.Option(
            metavar="{}..{}".format(*CRF_RANGE),
            help="Video quality (constant rate factor): lower is better and larger.",
        ),
    ] = DEFAULT_CRF,
    chunk_frames: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="With --engine ray: a clip's frames per Ray task, painted there and held "
            f"here in order. Default: {DEFAULT_CHUNK_FRAMES}.",
            show_default=False,
        ),
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Stylize images, folders, glob patterns and video clips.

    A bad file is reported and the rest go on. With --engine ray the same files, names and rules apply; this machine reads the inputs and writes the outputs, the cluster does the work.

    Video clips (.mp4, .mov, .mkv, .webm, .m4v, .avi; needs the video extra) come out as H.264 (VP9 in .webm) with their frame times, rotation and audio, beside the input as NAME-stylized.EXT or where -o says. With --engine ray a clip is cut into chunks of --chunk-frames frames, stylized on the cluster's nodes (which read the clip at the same path) and encoded here.

    Exit status: 0 when every image was stylized or skipped, 1 when any failed, 130 on Ctrl-C.
    """
    from style_plugin.runtime.options import OptionError
    from style_plugin.runtime.report import Problem
    from style_plugin.runtime.settings import StyleSettings

    try:
        settings = StyleSettings(
            strength=strength, preserve_colors=preserve_colors, scale=scale, max_side=max_side
        )
    except OptionError as exc:  # each setting's flag is its name, as Typer spells options
        fail(exc.naming({name: "--" + name.replace("_", "-") for name in exc.options}))
    if engine not in ENGINES:
        fail(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if address is not None and engine != "ray":
        fail("--address names a Ray cluster: pass --engine ray with it")
    _check_sequence_options(hold, crf)
    clips = [Path(name) for name in inputs if _stylized_as_clip(name, output)]
    _check_chunk_frames(chunk_frames, engine, clips)
    if clips:
        _check_clip_options(clips, inputs, output_format, quality)
        if overwrite and skip_existing:
            fail("--overwrite and --skip-existing contradict each other")
    elif temporal and engine == "ray":
        fail("--temporal stylizes frames in order on this machine: leave out --engine ray")
    if engine == "ray":
        from style_plugin.distributed.cluster import cluster_address

        address = cluster_address(address)  # a malformed one (or RAY_ADDRESS): one line now
    tiles = {} if tile_size is None else {"tile_size": tile_size}
    runtime = {"device": device, "threads": threads or 1, "exact_tiles": exact_tiles, **tiles}
    if clips:
        from style_plugin.cli.clips import ClipRequest, local_clips, ray_clips, run_clips

        request = ClipRequest(
            output=output,
            suffix=suffix,
            overwrite=overwrite,
            skip_existing=skip_existing,
            hold=None if temporal is False else hold,
            crf=crf,
            max_side=settings.max_side,
            allow_large=allow_large,
            quiet=quiet,
        )
        stylizer = _stylizer(model, device, threads, tile_size, exact_tiles, style, quiet)
        chosen = stylizer.model_for(style)
        if engine == "ray":
            job, runs_on = _ray_job(chosen.path, style, settings, runtime, address)
            chunks = chunk_frames or DEFAULT_CHUNK_FRAMES
            stylize_one = ray_clips(job, request, chunks, address)
        else:
            runs_on = chosen.session.provider.describe()
            stylize_one = local_clips(stylizer, style, settings, request)
        if not quiet:
            typer.echo(printable(f"{runs_on}; model: {chosen.path}"), err=True)
        run_clips(stylize_one, clips, request)
        return
    options = make_options(
        output=output,
        output_format=output_format,
        quality=quality,
        allow_large=allow_large,
        draft_side=max_side,
        suffix=suffix,
        skip_existing=skip_existing,
        overwrite=overwrite,
        jobs=jobs,
    )
    stylizer = _stylizer(model, device, threads, tile_size, exact_tiles, style, quiet)
    chosen = stylizer.model_for(style)
    plans = plan_batch(inputs, recursive, options)
    if temporal:
        from style_plugin.video.frames import sequence_order

        sequence_order(plans)
    if engine == "ray":
        from style_plugin.distributed import run_batch_on_ray

        job, runs_on = _ray_job(chosen.path, style, settings, runtime, address)
        run = functools.partial(run_batch_on_ray, job, address=address)
    else:
        from style_plugin.runtime.batch import run_batch
        from style_plugin.runtime.jobs import stylize_job

        if temporal:
            from style_plugin.video.frames import sequence_job

            job = sequence_job(stylizer, style, settings, hold)
        else:
            job = stylize_job(stylizer, style, settings)
        run = functools.partial(run_batch, job, notes=settings.no_effect_on)
        runs_on = chosen.session.provider.describe()
    if not quiet:
        typer.echo(printable(f"{runs_on}; model: {chosen.path}"), err=True)
    advice = {Problem.OUT_OF_MEMORY: " (try --max-side or a smaller --tile-size)"}
    run_planned(run, plans, options, quiet=quiet, advice=advice)


def _stylized_as_clip(name: str, output: str | None) -> bool:
    """A clip is; so is an animated GIF or WebP, unless `-o` names one still image."""
    if is_clip(name):
        return True
    if Path(name).suffix.lower() not in ANIMATION_SUFFIXES:
        return False
    one_file = output is not None and not output.endswith(("/", "\\")) and not Path(output).is_dir()
    if one_file and Path(output).suffix.lower() not in CLIP_SUFFIXES | ANIMATION_SUFFIXES:
        return False
    from style_plugin.video.animations import is_animation

    return is_animation(name)


def _check_sequence_options(hold: float, crf: int) -> None:
    """One line for a --hold or --crf out of range, before any work."""
    from style_plugin.runtime.options import OptionError

    try:
        check_hold(hold)
        check_crf(crf)
    except OptionError as exc:
        fail(exc.naming({"hold": "--hold", "crf": "--crf"}))


def _check_chunk_frames(chunk_frames: int | None, engine: str, clips: list[Path]) -> None:
    """One line for a --chunk-frames out of range, or without the clips on Ray it is for."""
    from style_plugin.runtime.options import OptionError

    if chunk_frames is None:
        return
    if engine != "ray" or not clips:
        fail("--chunk-frames cuts video clips into parts for --engine ray: pass both")
    try:
        check_chunk_frames(chunk_frames)
    except OptionError as exc:
        fail(exc.naming({"chunk_frames": "--chunk-frames"}))


def _check_clip_options(
    clips: list[Path],
    inputs: list[str],
    output_format: str | None,
    quality: int | None,
) -> None:
    """One line for what clips cannot do: go with images, take image formats."""
    if len(clips) < len(inputs):
        fail("video clips and images go in separate commands: stylize the clips on their own")
    if output_format is not None or quality is not None:
        fail(
            "--format and --quality are for images; a clip's format follows its -o name "
            "(.mp4, .mov, .mkv, .webm) and its quality --crf"
        )


def _stylizer(
    model: Path | None,
    device: str,
    threads: int,
    tile_size: int | None,
    exact_tiles: bool,
    style: str | None,
    quiet: bool,
) -> Stylizer:
    """The stylizer for the command's model and style (an unknown style fails here, listing
    the known ones); the styles of installed style packs join the store first."""
    from style_plugin.runtime.stylizer import Stylizer

    if model is None:
        load_plugins(quiet)
    tiles = {} if tile_size is None else {"tile_size": tile_size}
    stylizer = Stylizer(model, device=device, threads=threads, exact_tiles=exact_tiles, **tiles)
    stylizer.model_for(style).style_weights(style)
    return stylizer


def _ray_job(
    model: Path,
    style: str | None,
    settings: StyleSettings,
    runtime: dict[str, Any],
    address: str | None,
) -> tuple[PortableJob, str]:
    """The job shipped to a Ray cluster: the model, the settings and where they run
    (`runtime`; `threads`: CPUs per task, since tasks, not threads, fill the nodes), and
    what connecting did (started a Ray here, or joined the cluster at `address`, as
    `cluster_address` gives it)."""
    from style_plugin.distributed import PortableJob
    from style_plugin.distributed.cluster import connect, describe_connection

    ray = connect(address)  # no extra, no cluster: one line now, before any file is read
    job = PortableJob.from_file(model, style=style, settings=settings, **runtime)
    return job, describe_connection(ray, address)
