"""The training loop: a conditional generator against VGG losses and a PatchGAN discriminator.

Every random choice of step `s` comes from generators seeded by (seed, s, rank), so a resumed
run draws exactly the batches an uninterrupted one would; together with the saved model,
optimiser and scaler states this makes `--resume` reproduce the same losses on CPU.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from style_plugin import __version__
from style_plugin.atomic import atomic_write_text
from style_plugin.errors import DataError, TrainingError, one_line
from style_plugin.models.discriminator import PatchDiscriminator
from style_plugin.models.generator import Generator
from style_plugin.models.vgg import load_perceptual_net
from style_plugin.training import distributed
from style_plugin.training.base import (
    NewStyles,
    extend_generator,
    freeze_trunk,
    load_base,
    start_from_nearest,
)
from style_plugin.training.checkpoint import (
    checkpoint_path,
    compact_state,
    load_checkpoint,
    save_checkpoint,
)
from style_plugin.training.config import TrainConfig
from style_plugin.training.data import (
    ContentCrops,
    StepBatchSampler,
    StyleImages,
    sample_style_indices,
    scan_content_folder,
    step_generator,
)
from style_plugin.training.losses import (
    PerceptualLoss,
    discriminator_loss,
    generator_adversarial_loss,
    total_variation,
)
from style_plugin.training.metrics import MetricsLog
from style_plugin.training.preview import render_preview, save_preview

PREVIEW_PHOTOS = 3


#: Steps between checkpoints, previews and metrics records when neither the options nor a
#: resumed run say.
DEFAULT_CADENCE = {"checkpoint": 100, "preview": 100, "log": 10}


@dataclass
class RunOptions:
    """How to run a training (none of these change what is learned, except `amp`)."""

    device: str = "auto"
    resume: bool = False
    steps: int | None = None  # with resume: train up to this many steps in total
    #: Steps between checkpoints, previews and metrics records; None: the resumed run's own
    #: (saved in its checkpoint), else DEFAULT_CADENCE.
    checkpoint_every: int | None = None
    preview_every: int | None = None
    log_every: int | None = None
    workers: int | None = None  # DataLoader workers; None = 0 on CPU, 4 on CUDA
    amp: bool | None = None  # None = mixed precision where the device runs it natively
    compact_copy: Path | None = None  # also write checkpoint.compact_state here at each save
    channels_last: bool = True  # NHWC tensors (faster on CPU and GPU); False only to compare
    progress: bool = True
    on_log: Callable[[dict[str, Any]], None] | None = None


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


class _StopRequest:
    """Turns SIGINT/SIGTERM into a flag checked between steps, so a checkpoint can be written."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[_StopRequest]:
        import threading

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)


def _autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The mixed-precision type this device runs fast: bf16 (or fp16 on old GPUs), bf16 on CPUs
    with native bf16 instructions (AVX512-BF16/AMX, about 2.4x faster VGG here), else none."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return None


def _next_batch(batches: Iterator[Tensor]) -> Tensor:
    """The next batch; a photo that became unreadable in a loader worker stays a one-line error."""
    try:
        return next(batches)
    except DataError as exc:
        last = str(exc).strip().splitlines()[-1]
        raise DataError(last.split("DataError: ", 1)[-1]) from None


def _prepare_run_dir(run_dir: Path, resume: bool) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"--out {run_dir} is a file, not a folder")
    if resume:
        if not checkpoint_path(run_dir).is_file():
            raise TrainingError(f"cannot resume: no checkpoint in {run_dir}")
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise TrainingError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out"
        )


def _preview_photos(paths: list[Path], size: int) -> Tensor:
    """A few content photos, centre-cropped to the training crop, as a [K,3,size,size] batch."""
    tensors = []
    for path in paths[:PREVIEW_PHOTOS]:
        with Image.open(path) as im:
            im.draft("RGB", (size * 2, size * 2))
            photo = ImageOps.fit(ImageOps.exif_transpose(im).convert("RGB"), (size, size))
        tensors.append(torch.from_numpy(np.asarray(photo).copy()).permute(2, 0, 1))
    return torch.stack(tensors).float() / 255


class Trainer:
    """Owns one run: models, optimisers, data, and the files in the run folder."""

    def __init__(
        self, config: TrainConfig | None, run_dir: str | Path, options: RunOptions
    ) -> None:
        self.run_dir = Path(run_dir)
        self.options = options
        _prepare_run_dir(self.run_dir, options.resume)
        self.state: dict[str, Any] | None = None
        if options.resume:
            self.state = load_checkpoint(checkpoint_path(self.run_dir))
            config = TrainConfig.from_dict(self.state["config"])
        if config is None:
            raise TrainingError("a new run needs a content folder and at least one --style")
        if options.steps is not None:
            config.steps = options.steps
        config.validate()
        self.config = config
        self.start_step = int(self.state["step"]) if self.state else 0
        saved = self.state.get("cadence", {}) if self.state else {}
        given = {
            "checkpoint": options.checkpoint_every,
            "preview": options.preview_every,
            "log": options.log_every,
        }
        #: Steps between checkpoints, previews and metrics records: as given, else as the
        #: resumed run had them, else the defaults.
        self.cadence = {
            kind: given[kind] or int(saved.get(kind, default))
            for kind, default in DEFAULT_CADENCE.items()
        }
        if self.start_step >= config.steps:
            raise TrainingError(
                f"the run is already at step {self.start_step}; pass --steps larger than that to go on"
            )
        self.placement = distributed.setup(options.device)
        self.device = self.placement.device
        try:
            self._build()
        except BaseException:
            distributed.teardown(self.placement)
            raise

    # -- set-up -------------------------------------------------------------------------
    def _build(self) -> None:
        cfg, device = self.config, self.device
        torch.manual_seed(cfg.seed)
        self.scan = scan_content_folder(cfg.content_dir, min_side=cfg.crop_size)
        self.styles = StyleImages(
            {k: Path(v) for k, v in cfg.styles.items()},
            style_size=cfg.style_size,
            crop_size=cfg.crop_size,
            extra_real={k: Path(v) for k, v in cfg.extra_real.items()} or None,
        )
        num_styles = len(self.styles.names)
        self._build_generator()
        self.generator.to(device)
        self.discriminator = PatchDiscriminator(num_styles).to(device)
        layers = list(dict.fromkeys([*cfg.content_layers, *cfg.style_layers]))
        net = load_perceptual_net(cfg.vgg_weights, layers=layers).to(device)
        self.vgg_source = net.source
        if net.fallback and self.options.progress and self.placement.is_main:
            print(f"VGG19 weights: {net.source} ({net.fallback})", file=sys.stderr)
        self.perceptual = PerceptualLoss(
            net, self.styles.paintings, cfg.content_layers, cfg.style_layers
        )
        self.preview_photos = _preview_photos(self.scan.paths, cfg.crop_size)
        self._settle_generator()
        adam = {"lr": cfg.lr, "betas": (0.5, 0.999)}
        # Adam moves each weight by about lr per step, so per-style gammas and betas starting
        # equal (1 and 0) drift apart slowly: a larger rate for them lets the styles of a
        # multi-style model separate within a CPU-sized budget (docs/training.md).
        groups = [
            {"params": list(self.generator.style_parameters()), "lr": cfg.lr * cfg.style_lr_scale}
        ]
        if not self.trunk_frozen:
            groups.insert(0, {"params": list(self.generator.content_parameters())})
        self.opt_g = torch.optim.Adam(groups, **adam)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), **adam)

        on_cuda = device.type == "cuda"
        self.amp_dtype = _autocast_dtype(device)
        self.amp = self.amp_dtype is not None and self.options.amp is not False
        fp16 = self.amp and self.amp_dtype == torch.float16
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=fp16)
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=fp16)
        if on_cuda:
            torch.backends.cudnn.benchmark = True
        # oneDNN and cuDNN both run convolutions fastest on NHWC tensors (channels last): 1.4x
        # more crops/s on a CPU with bf16, no reorder before every layer.
        self.memory_format = (
            torch.channels_last if self.options.channels_last else torch.contiguous_format
        )
        for module in (self.generator, self.discriminator, net):
            module.to(memory_format=self.memory_format)

        if self.state:
            self._restore(self.state)

        #: The generator as the losses see it: style weights over the styles being trained.
        self.trained_styles = NewStyles(self.generator, len(self.base_styles))
        self.g_train: nn.Module = self.trained_styles
        self.d_train: nn.Module = self.discriminator
        if self.placement.distributed:
            ids = [device.index] if on_cuda else None
            self.g_train = DistributedDataParallel(self.trained_styles, device_ids=ids)
            self.d_train = DistributedDataParallel(self.discriminator, device_ids=ids)

        workers = self.options.workers
        if workers is None:
            workers = 4 if on_cuda else 0
        dataset = ContentCrops(self.scan.paths, cfg.crop_size)
        sampler = StepBatchSampler(
            len(dataset),
            cfg.batch_size,
            cfg.seed,
            self.start_step + 1,
            cfg.steps + 1,
            rank=self.placement.rank,
        )
        self.loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            num_workers=workers,
            pin_memory=on_cuda,
            prefetch_factor=2 if workers else None,
        )
        self.metrics = MetricsLog(self.run_dir)
        self.elapsed_before = float(self.state.get("elapsed_s", 0.0)) if self.state else 0.0

    @property
    def trunk_frozen(self) -> bool:
        """Whether only per-style parameters train: a run from a base with its trunk frozen."""
        return bool(self.config.base) and self.config.trunk == "frozen"

    def _build_generator(self) -> None:
        """The generator: new, or (with `config.base`) the base's trunk and styles with the
        run's styles after them, only the latter trained; with the trunk tuned too, the run's
        styles alone (the base's would no longer look as they did). A resumed run takes the
        base's styles from its checkpoint, which holds the whole generator."""
        cfg = self.config
        #: Styles inherited from the base model, before the run's own; their labels.
        self.base_styles: list[str] = []
        self.base_labels: dict[str, str] = {}
        base = None
        if self.state is not None:
            self.base_styles = self.state["style_names"][: -len(self.styles.names)]
            self.base_labels = dict(self.state.get("style_labels", {}))
        elif cfg.base:
            base = load_base(cfg.base)
            self.base_styles = list(base.style_names)
            self.base_labels = base.style_labels
            cfg.preset = base.preset
        clash = sorted(set(self.base_styles) & set(self.styles.names))
        if clash:
            raise TrainingError(
                f"style {clash[0]!r} is already in the model of --from {cfg.base}; "
                "give the new style another name"
            )
        self.generator = Generator(len(self.base_styles) + len(self.styles.names), cfg.preset)
        self.from_base = base is not None
        if base is not None:
            extend_generator(self.generator, base)

    def _settle_generator(self) -> None:
        """Once the losses exist: start a fresh run's new styles from the nearest base style
        (unless `style_start` is "mean"), drop the base's styles when the trunk is tuned, freeze a frozen trunk."""
        offset = len(self.base_styles)
        if self.from_base and self.config.style_start == "nearest":
            photos = self.preview_photos.to(self.device)
            start_from_nearest(self.generator, offset, photos, self.perceptual)

        if self.from_base and not self.trunk_frozen:
            self.generator = self.generator.with_styles(
                range(offset, offset + len(self.styles.names))
            ).to(self.device)
            self.base_styles, self.base_labels = [], {}
        if self.trunk_frozen:
            freeze_trunk(self.generator)

    def _restore(self, state: dict[str, Any]) -> None:
        """Load a checkpoint's weights and optimiser states into the freshly built run; a
        state that does not fit it (another preset, a damaged file) is one line."""
        if state["style_names"] != [*self.base_styles, *self.styles.names]:
            raise TrainingError("the checkpoint's styles differ from the run's configuration")
        try:
            self.generator.load_state_dict(state["generator"])
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_g.load_state_dict(state["opt_g"])
            if "opt_d" in state:  # a compact state (checkpoint.compact_state) has none
                self.opt_d.load_state_dict(state["opt_d"])
            self.scaler_g.load_state_dict(state["scaler_g"])
            self.scaler_d.load_state_dict(state["scaler_d"])
        except (KeyError, ValueError, TypeError, RuntimeError, AttributeError) as exc:
            reason = one_line(exc)
            raise TrainingError(f"cannot resume from the checkpoint: {reason}") from None

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp:
            return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)
        return contextlib.nullcontext()

    # -- one step -----------------------------------------------------------------------
    def _step(self, step: int, content: Tensor) -> dict[str, float]:
        cfg, device = self.config, self.device
        num_styles = len(self.styles.names)
        rank = self.placement.rank
        style_index = sample_style_indices(
            num_styles, content.shape[0], step_generator(cfg.seed, step, rank, 1)
        )
        weights = F.one_hot(style_index, num_styles).float().to(device)
        style_index = style_index.to(device)
        content = content.to(device, non_blocking=True)
        content = content.contiguous(memory_format=self.memory_format)
        adversarial = cfg.adv_weight > 0

        with self._autocast():
            fake = self.g_train(content, weights)

        d_loss = torch.zeros((), device=device)
        if adversarial:
            real = self.styles.real_crops(
                style_index.cpu(), step_generator(cfg.seed, step, rank, 2)
            )
            real = real.to(device, non_blocking=True)
            real = real.contiguous(memory_format=self.memory_format)
            with self._autocast():
                logits = self.d_train(
                    torch.cat([real, fake.detach()]), torch.cat([style_index, style_index])
                ).float()
            real_logits, fake_logits = logits.chunk(2)
            d_loss = discriminator_loss(cfg.gan_loss, real_logits, fake_logits)
            self._check_finite(step, {"discriminator": d_loss})
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler_d.scale(d_loss).backward()
            self.scaler_d.step(self.opt_d)
            self.scaler_d.update()

        with self._autocast():
            content_loss, style_loss = self.perceptual(fake, content, weights)
        tv_loss = total_variation(fake.float())
        adv_loss = torch.zeros((), device=device)
        if adversarial:
            self.discriminator.requires_grad_(False)
            with self._autocast():
                adv_loss = generator_adversarial_loss(
                    cfg.gan_loss, self.discriminator(fake, style_index).float()
                )
            self.discriminator.requires_grad_(True)
        total = (
            cfg.content_weight * content_loss
            + cfg.style_weight * style_loss
            + cfg.adv_weight * adv_loss
            + cfg.tv_weight * tv_loss
        )
        losses = {
            "content": content_loss,
            "style": style_loss,
            "adversarial": adv_loss,
            "tv": tv_loss,
        }
        self._check_finite(step, {**losses, "total": total})
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(total).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        figures = {**losses, "total": total, "discriminator": d_loss}
        return {k: float(v.detach()) for k, v in figures.items()}

    def _check_finite(self, step: int, losses: dict[str, Tensor]) -> None:
        bad = [name for name, value in losses.items() if not torch.isfinite(value).all()]
        if bad:
            kept = f"the last good checkpoint (step {self.last_saved}) is kept in {self.run_dir}"
            raise TrainingError(
                f"training diverged at step {step}: {', '.join(bad)} loss is not finite; {kept}; "
                "try a lower --lr or --adv-weight"
            )

    # -- files ----------------------------------------------------------------------------
    def _save(self, step: int, losses: dict[str, float], elapsed: float) -> None:
        if not self.placement.is_main:
            return
        state = {
            "step": step,
            "config": self.config.to_dict(),
            "style_names": [*self.base_styles, *self.styles.names],
            "style_labels": self.base_labels,
            "preset": self.generator.preset.name,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
            "losses": losses,
            "elapsed_s": elapsed,
            "vgg_source": self.vgg_source,
            "world_size": self.placement.world_size,
            "package_version": __version__,
            "torch_version": str(torch.__version__),
            "amp": str(self.amp_dtype) if self.amp else "off",
            "cadence": self.cadence,
        }
        save_checkpoint(checkpoint_path(self.run_dir), state)
        if self.options.compact_copy is not None:
            save_checkpoint(self.options.compact_copy, compact_state(state))
        self.last_saved = step

    def _preview(self, step: int) -> None:
        if not self.placement.is_main:
            return
        sheet = render_preview(
            self.trained_styles, self.preview_photos, self.styles.paintings, self.device
        )
        save_preview(sheet, self.run_dir / "previews" / f"step_{step:06d}.png")

    def _write_summary(self, summary: TrainSummary) -> None:
        if not self.placement.is_main:
            return
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in summary.__dict__.items()}
        atomic_write_text(self.run_dir / "summary.json", json.dumps(data, indent=2) + "\n")

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> TrainSummary:
        """Train from the start (or the checkpoint) to `config.steps`; checkpoint on SIGINT/SIGTERM."""
        try:
            return self._run()
        finally:
            distributed.teardown(self.placement)

    def _run(self) -> TrainSummary:
        cfg, opts, main = self.config, self.options, self.placement.is_main
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.metrics.truncate_after(self.start_step)
            if not self.state:
                atomic_write_text(
                    self.run_dir / "config.json", json.dumps(cfg.to_dict(), indent=2) + "\n"
                )
        self.last_saved = self.start_step
        step, losses = self.start_step, dict(self.state.get("losses", {})) if self.state else {}
        started = time.perf_counter()
        window_start, window_images = started, 0
        images_per_step = cfg.batch_size * self.placement.world_size
        stop = _StopRequest()
        progress = _Progress(cfg.steps, self.start_step, enabled=opts.progress and main)
        interrupted = False
        with stop.installed(), progress:
            batches = iter(self.loader)
            while step < cfg.steps:
                if distributed.any_rank(stop.requested, self.placement):
                    interrupted = True
                    break
                content = _next_batch(batches)
                step += 1
                losses = self._step(step, content)
                window_images += images_per_step
                elapsed = self.elapsed_before + time.perf_counter() - started
                if step % self.cadence["log"] == 0 or step == cfg.steps:
                    now = time.perf_counter()
                    rate = window_images / max(now - window_start, 1e-9)
                    window_start, window_images = now, 0
                    record = {
                        "step": step,
                        **distributed.mean_across_ranks(losses, self.placement),
                        "images_per_s": rate,
                        "elapsed_s": elapsed,
                    }
                    if main:
                        self.metrics.append(record)
                    if opts.on_log:
                        opts.on_log(record)
                    progress.update(step, record)
                else:
                    progress.update(step, None)
                if step % self.cadence["checkpoint"] == 0 or step == cfg.steps:
                    self._save(step, losses, elapsed)
                if step % self.cadence["preview"] == 0 or step == cfg.steps:
                    self._preview(step)
        elapsed = self.elapsed_before + time.perf_counter() - started
        if self.last_saved != step:
            self._save(step, losses, elapsed)
        trained = step - self.start_step
        summary = TrainSummary(
            run_dir=self.run_dir,
            step=step,
            total_steps=cfg.steps,
            interrupted=interrupted,
            device=str(self.device)
            + (f" x{self.placement.world_size}" if self.placement.distributed else ""),
            vgg_source=self.vgg_source,
            seconds=elapsed,
            images_per_second=trained * images_per_step / max(time.perf_counter() - started, 1e-9),
            losses=losses,
            skipped_files=[
                (str(p), reason) for p, reason in [*self.scan.skipped, *self.styles.extra_skipped]
            ],
            main_process=main,
        )
        self._write_summary(summary)
        return summary


class _Progress:
    """A rich progress bar with live losses on a terminal; plain log lines elsewhere."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.enabled = enabled
        self.total = total
        self._bar = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("training"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[losses]}"),
                console=Console(stderr=True),
            )
            self._task = self._bar.add_task("train", total=total, completed=done, losses="")

    def __enter__(self) -> _Progress:
        if self._bar:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar:
            self._bar.stop()

    def update(self, step: int, record: dict[str, Any] | None) -> None:
        if not self.enabled:
            return
        text = None
        if record is not None:
            text = (
                f"content {record['content']:.3f}  style {record['style']:.3f}  "
                f"adv {record['adversarial']:.3f}  D {record['discriminator']:.3f}  "
                f"{record['images_per_s']:.1f} img/s"
            )
        if self._bar:
            fields = {"losses": text} if text else {}
            self._bar.update(self._task, completed=step, **fields)
        elif text:
            print(f"step {step}/{self.total}  {text}", file=sys.stderr, flush=True)
