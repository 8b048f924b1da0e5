"""The training loop: a conditional generator against VGG losses and a PatchGAN discriminator.

`Trainer(config, run_dir, options).run()` trains a run to its last step. The set-up lives in
run_setup.py, one optimisation step in step.py; here are the loop and the run folder's files:
checkpoints, previews, the metrics log and the summary. Progress goes out through the
callbacks of `RunOptions`, never to the terminal.

Every random choice of step `s` comes from generators seeded by (seed, s, rank), so a resumed
run draws exactly the batches an uninterrupted one would; together with the saved model,
optimiser and scaler states this makes `--resume` reproduce the same losses on CPU.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from style_plugin import __version__
from style_plugin.atomic import atomic_write_text
from style_plugin.errors import DataError, TrainingError, one_line
from style_plugin.training import distributed
from style_plugin.training.checkpoint import checkpoint_path, compact_state, save_checkpoint
from style_plugin.training.config import TrainConfig
from style_plugin.training.metrics import MetricsLog
from style_plugin.training.preview import render_live_preview, render_preview, save_preview
from style_plugin.training.run_setup import RunOptions, RunSetup
from style_plugin.training.step import LossNotFinite

__all__ = ["RunOptions", "TrainSummary", "Trainer"]


@dataclass
class TrainSummary:
    """What a finished (or interrupted) run reports."""

    run_dir: Path
    step: int
    total_steps: int
    interrupted: bool
    device: str
    vgg_source: str
    seconds: float
    images_per_second: float
    losses: dict[str, float]
    skipped_files: list[tuple[str, str]] = field(default_factory=list)
    main_process: bool = True
    #: Steps timed for `steps_per_second`: those of this session after its first, whose
    #: duration includes warm-up.
    timed_steps: int = 0
    #: Speed over the timed steps; None with none timed.
    steps_per_second: float | None = None


class _StopRequest:
    """Turns SIGINT/SIGTERM into a flag checked between steps, so a checkpoint can be written."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[_StopRequest]:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)


def _next_batch(batches: Iterator[Tensor]) -> Tensor:
    """The next batch; a photo that became unreadable in a loader worker stays a one-line error."""
    try:
        return next(batches)
    except DataError as exc:
        last = one_line(exc, last=True, limit=1000)
        raise DataError(last.split("DataError: ", 1)[-1]) from None


class Trainer:
    """Owns one run: its set-up (`setup`), the loop, and the files in the run folder."""

    def __init__(
        self, config: TrainConfig | None, run_dir: str | Path, options: RunOptions
    ) -> None:
        self.setup = RunSetup(config, run_dir, options)
        self.run_dir = self.setup.run_dir
        self.metrics = MetricsLog(self.run_dir)
        self.last_saved = self.setup.start_step

    # -- files ----------------------------------------------------------------------------
    def _save(self, step: int, losses: dict[str, float], elapsed: float) -> None:
        run = self.setup
        if not run.placement.is_main:
            return
        state = {
            "step": step,
            "config": run.config.to_dict(),
            "style_names": run.style_names,
            "style_labels": run.base_labels,
            "preset": run.generator.preset.name,
            "generator": run.generator.state_dict(),
            "discriminator": run.discriminator.state_dict(),
            **run.optimisers.state_dict(),
            "losses": losses,
            "elapsed_s": elapsed,
            "vgg_source": run.vgg_source,
            "world_size": run.placement.world_size,
            "package_version": __version__,
            "torch_version": str(torch.__version__),
            "amp": str(run.amp_dtype) if run.amp_dtype else "off",
            "cadence": run.cadence,
        }
        save_checkpoint(checkpoint_path(self.run_dir), state)
        if run.options.compact_copy is not None:
            save_checkpoint(run.options.compact_copy, compact_state(state))
        self.last_saved = step

    def _preview(self, step: int) -> None:
        run = self.setup
        if not run.placement.is_main:
            return
        sheet = render_preview(
            run.trained_styles, run.preview_photos, run.styles.paintings, run.device
        )
        save_preview(sheet, self.run_dir / "previews" / f"step_{step:06d}.png")

    def _live_preview(self, step: int) -> None:
        run = self.setup
        live = run.options.live_preview
        if not run.placement.is_main or live is None or run.live_photo is None:
            return
        image = render_live_preview(
            run.trained_styles, run.live_photo, len(run.styles.names), run.device
        )
        save_preview(image, live.path)
        if run.options.on_live_preview:
            run.options.on_live_preview(step, live.path)

    def _write_summary(self, summary: TrainSummary) -> None:
        if not self.setup.placement.is_main:
            return
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in summary.__dict__.items()}
        atomic_write_text(self.run_dir / "summary.json", json.dumps(data, indent=2) + "\n")

    def _diverged(self, exc: LossNotFinite) -> TrainingError:
        kept = f"the last good checkpoint (step {self.last_saved}) is kept in {self.run_dir}"
        return TrainingError(
            f"training diverged at step {exc.step}: {', '.join(exc.losses)} loss is not "
            f"finite; {kept}; try a lower --lr or --adv-weight"
        )

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> TrainSummary:
        """Train from the start (or the checkpoint) to `config.steps`; checkpoint on SIGINT/SIGTERM."""
        try:
            return self._run()
        finally:
            distributed.teardown(self.setup.placement)

    def _report(self, step: int, record: dict[str, Any] | None) -> None:
        """Tell `on_progress` where the run stands (main process only)."""
        run = self.setup
        if run.placement.is_main and run.options.on_progress:
            run.options.on_progress(step, run.config.steps, record)

    def _run(self) -> TrainSummary:
        run = self.setup
        cfg, opts, main, placement = run.config, run.options, run.placement.is_main, run.placement
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.metrics.truncate_after(run.start_step)
            if not run.state:
                atomic_write_text(
                    self.run_dir / "config.json", json.dumps(cfg.to_dict(), indent=2) + "\n"
                )
        step, losses = run.start_step, dict(run.state.get("losses", {})) if run.state else {}
        started = time.perf_counter()
        window_start, window_images = started, 0
        images_per_step = cfg.batch_size * placement.world_size
        stop = _StopRequest()
        interrupted = False
        first_step_done: float | None = None  # the timed steps start here
        self._report(step, None)
        with stop.installed():
            batches = iter(run.loader)
            while step < cfg.steps:
                if distributed.any_rank(stop.requested, placement):
                    interrupted = True
                    break
                content = _next_batch(batches)
                step += 1
                try:
                    losses = run.train_step(step, content)
                except LossNotFinite as exc:
                    raise self._diverged(exc) from None
                window_images += images_per_step
                elapsed = run.elapsed_before + time.perf_counter() - started
                record = None
                if step % run.cadence["log"] == 0 or step == cfg.steps:
                    now = time.perf_counter()
                    rate = window_images / max(now - window_start, 1e-9)
                    window_start, window_images = now, 0
                    record = {
                        "step": step,
                        **distributed.mean_across_ranks(losses, placement),
                        "images_per_s": rate,
                        "elapsed_s": elapsed,
                    }
                    if main:
                        self.metrics.append(record)
                    if opts.on_log:
                        opts.on_log(record)
                self._report(step, record)
                if step % run.cadence["checkpoint"] == 0 or step == cfg.steps:
                    self._save(step, losses, elapsed)
                if step % run.cadence["preview"] == 0 or step == cfg.steps:
                    self._preview(step)
                live = opts.live_preview
                if live and (step % live.every == 0 or step == cfg.steps):
                    self._live_preview(step)
                if first_step_done is None:
                    first_step_done = time.perf_counter()
        elapsed = run.elapsed_before + time.perf_counter() - started
        if self.last_saved != step:
            self._save(step, losses, elapsed)
        trained = step - run.start_step
        timed = max(0, trained - 1)
        timed_seconds = time.perf_counter() - (first_step_done or 0.0)
        summary = TrainSummary(
            run_dir=self.run_dir,
            step=step,
            total_steps=cfg.steps,
            interrupted=interrupted,
            device=str(run.device) + (f" x{placement.world_size}" if placement.distributed else ""),
            vgg_source=run.vgg_source,
            seconds=elapsed,
            images_per_second=trained * images_per_step / max(time.perf_counter() - started, 1e-9),
            losses=losses,
            skipped_files=[
                (str(p), reason) for p, reason in [*run.scan.skipped, *run.styles.extra_skipped]
            ],
            main_process=main,
            timed_steps=timed,
            steps_per_second=timed / max(timed_seconds, 1e-9) if timed else None,
        )
        self._write_summary(summary)
        return summary
