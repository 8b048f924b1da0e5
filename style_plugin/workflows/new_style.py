"""A painting becomes one of the user's styles in one call: it trains from a base model
(style_plugin/training/base.py), starting from the base style nearest to it, with the base's
trunk tuned too by default (the style is exported alone, so nothing else changes), then the
style is exported into the user model folder, where the CLI, the Python API and the hosts find it. The run is kept under
`user_runs_dir()`, so a cancelled call goes on where it stopped when made again; its speed is
kept for the next estimate of how long one takes here (training/watching.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from style_plugin.bundled import sample_photos_dir
from style_plugin.errors import TrainingError
from style_plugin.training.base import BUNDLED
from style_plugin.training.checkpoint import checkpoint_path, load_checkpoint
from style_plugin.training.config import (
    NEW_STYLE_STEPS,
    NEW_STYLE_STYLE_WEIGHT,
    NEW_STYLE_TRUNK,
    TrainConfig,
    check_style,
)
from style_plugin.training.run_setup import LivePreview
from style_plugin.training.trainer import RunOptions, Trainer, TrainSummary
from style_plugin.training.watching import (
    MEASURED_STEPS,
    MeasuredSpeed,
    live_preview_path,
    record_speed,
)
from style_plugin.user_dirs import user_models_dir, user_runs_dir


@dataclass(frozen=True)
class NewStyle:
    """Where a new style's run and model are; `model` is None when the run was interrupted."""

    name: str
    run_dir: Path
    model: Path | None
    summary: TrainSummary | None


def add_style(
    name: str,
    painting: Path,
    *,
    label: str | None = None,
    base: str = BUNDLED,
    photos: Path | None = None,
    steps: int = NEW_STYLE_STEPS,
    trunk: str = NEW_STYLE_TRUNK,
    options: RunOptions | None = None,
    overwrite: bool = False,
    settings: Mapping[str, Any] | None = None,
    preview: Path | None = None,
) -> NewStyle:
    """Train style `name` from `painting` on `base` (photos: the package's samples unless
    given) and install it as `user_models_dir()/NAME.onnx` (fp16, labelled `label`);
    `trunk` "tuned" trains the base's trunk too, "frozen" only the style's parameters. An
    existing model of that name is kept unless `overwrite`; a run of that name resumes.
    `settings` sets other TrainConfig fields of a new run (crop size, learning rate...; the
    style weight is `NEW_STYLE_STYLE_WEIGHT` unless set).
    `preview`: a photo drawn in the style as it is learnt, at `live_preview_path(name)`
    (`options.on_live_preview` is told of each)."""
    from style_plugin.exporters.onnx import export_onnx

    check_style(name, label)
    model = user_models_dir() / f"{name}.onnx"
    if model.exists() and not overwrite:
        raise TrainingError(
            f"a style model {model} already exists; choose another name or pass --overwrite"
        )
    run_dir = user_runs_dir() / name
    kept = load_checkpoint(run_dir) if checkpoint_path(run_dir).is_file() else None
    resume = kept is not None
    summary = None
    if kept is not None:
        _check_same_run(kept, run_dir, name, painting)
    if kept is None or kept["step"] < steps:
        config = None
        if not resume:
            config = TrainConfig(
                content_dir=str(Path(photos or sample_photos_dir()).resolve()),
                styles={name: str(Path(painting).resolve())},
                base=base,
                trunk=trunk,
                steps=steps,
                **{"style_weight": NEW_STYLE_STYLE_WEIGHT, **(settings or {})},
            )
        run = dataclasses.replace(options or RunOptions(), resume=resume, steps=steps)
        if preview is not None:
            live = LivePreview(Path(preview), live_preview_path(name))
            run = dataclasses.replace(run, live_preview=live)
        trainer = Trainer(config, run_dir, run)
        summary = trainer.run()
        _keep_speed(summary, trainer.setup.config)
        if summary.interrupted or not summary.main_process:
            return NewStyle(name, run_dir, None, summary)
    model.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(
        run_dir,
        model,
        fp16=True,
        labels={name: label} if label else None,
        styles=_shipped_styles(run_dir, name),
        overwrite=overwrite,
    )
    return NewStyle(name, run_dir, model, summary)


def _shipped_styles(run_dir: Path, name: str) -> list[str]:
    """The styles the installed model holds: the new one first; with a frozen trunk, which
    is the base's own, the base's styles too, so that a mix of the new style and those is
    one model's (`--style mine=0.5,starry-night=0.5`), exactly as the base paints them."""
    state = load_checkpoint(run_dir)
    if state["config"].get("trunk") != "frozen":
        return [name]
    return [name, *(other for other in state["style_names"] if other != name)]


def _check_same_run(state: dict[str, Any], run_dir: Path, name: str, painting: Path) -> None:
    """A kept run of this name must be of this painting: going on with another would mix them."""
    kept = state["config"]["styles"].get(name)
    if kept is None or Path(kept).resolve() != Path(painting).resolve():
        raise TrainingError(
            f"{run_dir} holds a run of style {name!r} from another painting ({kept}); "
            "remove that folder or choose another name"
        )


def _keep_speed(summary: TrainSummary, config: TrainConfig) -> None:
    """Keep the run's speed for the next estimate, where it timed enough steps to tell."""
    if summary.main_process and summary.steps_per_second and summary.timed_steps >= MEASURED_STEPS:
        record_speed(
            MeasuredSpeed(
                summary.steps_per_second, summary.device, config.crop_size, config.batch_size
            )
        )
