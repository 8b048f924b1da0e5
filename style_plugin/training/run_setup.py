"""A training run's set-up: how it is run (`RunOptions`), and everything it trains with
(`RunSetup`): configuration, generator and discriminator, losses, optimisers and data, all
restored from the checkpoint when the run resumes. Setting up writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader

from style_plugin.errors import TrainingError, one_line
from style_plugin.models.discriminator import PatchDiscriminator
from style_plugin.models.generator import MIN_SIDE, Generator
from style_plugin.models.vgg import load_perceptual_net, min_input_side
from style_plugin.training import distributed
from style_plugin.training.base import (
    NewStyles,
    extend_generator,
    freeze_trunk,
    load_base,
    start_from_namesakes,
    start_from_nearest,
)
from style_plugin.training.checkpoint import checkpoint_path, load_checkpoint
from style_plugin.training.config import TrainConfig
from style_plugin.training.data import (
    ContentCrops,
    StepBatchSampler,
    StyleImages,
    centre_crops,
    scan_content_folder,
    whole_photo,
)
from style_plugin.training.losses import PerceptualLoss
from style_plugin.training.step import Optimisers, TrainingStep
from style_plugin.training.watching import LIVE_PREVIEW_EVERY, LIVE_PREVIEW_SIDE

#: Content photos shown in each preview sheet.
PREVIEW_PHOTOS = 3

#: Steps between checkpoints, previews and metrics records when neither the options nor a
#: resumed run say.
DEFAULT_CADENCE = {"checkpoint": 100, "preview": 100, "log": 10}

#: on_progress(step, total, record): see `RunOptions.on_progress`.
ProgressCallback = Callable[[int, int, dict[str, Any] | None], None]


@dataclass(frozen=True)
class LivePreview:
    """A photo of the user's choice drawn in the styles being learnt as the run goes: written
    to `path` (PNG, long side at most LIVE_PREVIEW_SIDE) every `every` steps and at the last."""

    photo: Path
    path: Path
    every: int = LIVE_PREVIEW_EVERY


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
    #: Decode photos and paintings over Pillow's decompression-bomb limit (trusted files).
    allow_large: bool = False
    #: Each metrics record (every `log_every` steps and the last), on every process.
    on_log: Callable[[dict[str, Any]], None] | None = None
    #: Where the run stands, for a progress display: called as the run starts (at step 0, or
    #: the step it resumes from) and after each step, with the metrics record on the steps
    #: that write one, else None. Main process only.
    on_progress: ProgressCallback | None = None
    #: A line worth telling whoever watches (where a resumed run goes on, which VGG19 weights
    #: stand in and why, a painting's border cut off). Main process only.
    on_note: Callable[[str], None] | None = None
    #: Draw a photo in the styles being learnt as the run goes (see `LivePreview`).
    live_preview: LivePreview | None = None
    #: Called with (step, path) once a live preview is written. Main process only.
    on_live_preview: Callable[[int, Path], None] | None = None


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """The mixed-precision type this device runs fast: bf16 (or fp16 on old GPUs), bf16 on CPUs
    with native bf16 instructions (AVX512-BF16/AMX, about 2.4x faster VGG here), else none."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return None


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """Refuse a run folder that is a file, holds another run (unless resuming), or holds no
    checkpoint to resume."""
    if run_dir.exists() and not run_dir.is_dir():
        raise TrainingError(f"--out {run_dir} is a file, not a folder")
    if resume:
        if not checkpoint_path(run_dir).is_file():
            raise TrainingError(f"cannot resume: no checkpoint in {run_dir}")
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise TrainingError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out"
        )


class RunSetup:
    """One run, ready to train: its configuration (a resumed run's own), models, losses,
    optimisers, data and `train_step`, restored from its checkpoint when it resumes."""

    def __init__(
        self, config: TrainConfig | None, run_dir: str | Path, options: RunOptions
    ) -> None:
        self.run_dir = Path(run_dir)
        self.options = options
        check_run_dir(self.run_dir, options.resume)
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
        #: The model a new run starts from (`config.base`), read before anything else is.
        self.base = load_base(config.base) if config.base and self.state is None else None
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

    def _build(self) -> None:
        cfg, device, allow_large = self.config, self.device, self.options.allow_large
        torch.manual_seed(cfg.seed)
        self.styles = StyleImages(
            {k: Path(v) for k, v in cfg.styles.items()},
            style_size=cfg.style_size,
            crop_size=cfg.crop_size,
            extra_real={k: Path(v) for k, v in cfg.extra_real.items()} or None,
            keep_borders=cfg.keep_borders,
            min_side=min_input_side(list(cfg.style_layers)),
            allow_large=allow_large,
        )
        self.scan = scan_content_folder(
            cfg.content_dir, min_side=cfg.crop_size, allow_large=allow_large
        )
        live = self.options.live_preview
        #: The live preview's photo, [1,3,H,W]; None without one.
        self.live_photo = (
            whole_photo(live.photo, LIVE_PREVIEW_SIDE, MIN_SIDE, allow_large) if live else None
        )
        if self.placement.is_main and self.options.on_note:
            for name, border in self.styles.borders.items():
                self.options.on_note(
                    f"{name}: border cut off the painting ({border.describe()}); "
                    "--keep-borders keeps it"
                )
        self._build_generator()
        self.generator.to(device)
        self.discriminator = PatchDiscriminator(len(self.styles.names)).to(device)
        layers = list(dict.fromkeys([*cfg.content_layers, *cfg.style_layers]))
        net = load_perceptual_net(cfg.vgg_weights, layers=layers).to(device)
        self.vgg_source = net.source
        if net.fallback and self.placement.is_main and self.options.on_note:
            self.options.on_note(f"VGG19 weights: {net.source} ({net.fallback})")
        perceptual = PerceptualLoss(
            net, self.styles.paintings, cfg.content_layers, cfg.style_layers
        )
        self.preview_photos = centre_crops(
            self.scan.paths[:PREVIEW_PHOTOS], cfg.crop_size, allow_large
        )
        self._settle_generator(perceptual)
        #: The mixed-precision type the run computes in; None: full precision.
        self.amp_dtype = autocast_dtype(device) if self.options.amp is not False else None
        self.optimisers = self._optimisers()

        on_cuda = device.type == "cuda"
        if on_cuda:
            torch.backends.cudnn.benchmark = True
        # oneDNN and cuDNN both run convolutions fastest on NHWC tensors (channels last): 1.4x
        # more crops/s on a CPU with bf16, no reorder before every layer.
        memory_format = (
            torch.channels_last if self.options.channels_last else torch.contiguous_format
        )
        for module in (self.generator, self.discriminator, net):
            module.to(memory_format=memory_format)

        if self.state:
            self._restore(self.state)
            if self.placement.is_main and self.options.on_note:
                self.options.on_note(
                    f"resuming {self.run_dir} from step {self.start_step} of {cfg.steps}"
                )

        #: The generator as the losses see it: style weights over the styles being trained.
        self.trained_styles = NewStyles(self.generator, len(self.base_styles))
        g_train: nn.Module = self.trained_styles
        d_train: nn.Module = self.discriminator
        if self.placement.distributed:
            ids = [device.index] if on_cuda else None
            g_train = DistributedDataParallel(self.trained_styles, device_ids=ids)
            d_train = DistributedDataParallel(self.discriminator, device_ids=ids)
        self.train_step = TrainingStep(
            config=cfg,
            styles=self.styles,
            generator=g_train,
            discriminator=d_train,
            critic=self.discriminator,
            perceptual=perceptual,
            optimisers=self.optimisers,
            device=device,
            memory_format=memory_format,
            amp_dtype=self.amp_dtype,
            rank=self.placement.rank,
        )
        self.loader = self._loader(workers=self.options.workers, pin_memory=on_cuda)
        self.elapsed_before = float(self.state.get("elapsed_s", 0.0)) if self.state else 0.0

    @property
    def trunk_frozen(self) -> bool:
        """Whether only per-style parameters train: a run from a base with its trunk frozen."""
        return bool(self.config.base) and self.config.trunk == "frozen"

    @property
    def style_names(self) -> list[str]:
        """Every style of the generator: the base's kept ones, then the run's own."""
        return [*self.base_styles, *self.styles.names]

    def _build_generator(self) -> None:
        """The generator: new, or (with `config.base`) the base's trunk and styles with the
        run's styles after them, only the latter trained; with the trunk tuned too, the run's
        styles alone (the base's would no longer look as they did), where a style named like
        one of the base's retrains it. A resumed run takes the base's styles from its
        checkpoint, which holds the whole generator."""
        cfg = self.config
        #: Styles inherited from the base model, before the run's own; their labels.
        self.base_styles: list[str] = []
        self.base_labels: dict[str, str] = {}
        base = self.base
        if self.state is not None:
            self.base_styles = self.state["style_names"][: -len(self.styles.names)]
            self.base_labels = dict(self.state.get("style_labels", {}))
        elif base is not None:
            self.base_styles = list(base.style_names)
            self.base_labels = base.style_labels
            cfg.preset = base.preset
        clash = sorted(set(self.base_styles) & set(self.styles.names))
        if clash and cfg.trunk != "tuned":
            raise TrainingError(
                f"style {clash[0]!r} is already in the model of --from {cfg.base}; "
                "give the new style another name"
            )
        self.generator = Generator(len(self.base_styles) + len(self.styles.names), cfg.preset)
        self.from_base = base is not None
        if base is not None:
            extend_generator(self.generator, base)

    def _settle_generator(self, perceptual: PerceptualLoss) -> None:
        """Once the losses exist: start a fresh run's new styles from the nearest base style
        (unless `style_start` is "mean"), drop the base's styles when the trunk is tuned,
        freeze a frozen trunk."""
        offset = len(self.base_styles)
        if self.from_base and self.config.style_start == "nearest":
            photos = self.preview_photos.to(self.device)
            start_from_nearest(self.generator, offset, photos, perceptual)
        if self.from_base:
            start_from_namesakes(self.generator, self.base_styles, self.styles.names)

        if self.from_base and not self.trunk_frozen:
            self.generator = self.generator.with_styles(
                range(offset, offset + len(self.styles.names))
            ).to(self.device)
            self.base_styles, self.base_labels = [], {}
        if self.trunk_frozen:
            freeze_trunk(self.generator)

    def _optimisers(self) -> Optimisers:
        cfg = self.config
        adam = {"lr": cfg.lr, "betas": (0.5, 0.999)}
        # Adam moves each weight by about lr per step, so per-style gammas and betas starting
        # equal (1 and 0) drift apart slowly: a larger rate for them lets the styles of a
        # multi-style model separate within a CPU-sized budget (docs/training.md).
        groups = [
            {"params": list(self.generator.style_parameters()), "lr": cfg.lr * cfg.style_lr_scale}
        ]
        if not self.trunk_frozen:
            groups.insert(0, {"params": list(self.generator.content_parameters())})
        fp16 = self.amp_dtype == torch.float16  # gradients scaled: fp16 underflows
        return Optimisers(
            generator=torch.optim.Adam(groups, **adam),
            discriminator=torch.optim.Adam(self.discriminator.parameters(), **adam),
            generator_scaler=torch.amp.GradScaler("cuda", enabled=fp16),
            discriminator_scaler=torch.amp.GradScaler("cuda", enabled=fp16),
        )

    def _loader(self, workers: int | None, pin_memory: bool) -> DataLoader:
        """The content crops of steps start_step+1 .. config.steps, in this process's share."""
        cfg = self.config
        if workers is None:
            workers = 4 if self.device.type == "cuda" else 0
        dataset = ContentCrops(self.scan.paths, cfg.crop_size, allow_large=self.options.allow_large)
        sampler = StepBatchSampler(
            len(dataset),
            cfg.batch_size,
            cfg.seed,
            self.start_step + 1,
            cfg.steps + 1,
            rank=self.placement.rank,
        )
        return DataLoader(
            dataset,
            batch_sampler=sampler,
            num_workers=workers,
            pin_memory=pin_memory,
            prefetch_factor=2 if workers else None,
        )

    def _restore(self, state: dict[str, Any]) -> None:
        """Load a checkpoint's weights and optimiser states into the freshly built run; a
        state that does not fit it (another preset, a damaged file) is one line."""
        if state["style_names"] != self.style_names:
            raise TrainingError("the checkpoint's styles differ from the run's configuration")
        try:
            self.generator.load_state_dict(state["generator"])
            self.discriminator.load_state_dict(state["discriminator"])
            self.optimisers.load_state_dict(state)
        except (KeyError, ValueError, TypeError, RuntimeError, AttributeError) as exc:
            reason = one_line(exc)
            raise TrainingError(f"cannot resume from the checkpoint: {reason}") from None
