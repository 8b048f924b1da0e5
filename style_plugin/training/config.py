"""Everything that defines a training run, saved in every checkpoint so `--resume` can rebuild it."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from style_plugin.contract import style_problem
from style_plugin.errors import TrainingError

#: Steps of a style added to a trained model (`add-style`, the editors' "New style from an
#: image"): batches of 4 crops of 256 px. Why 600, and how long it takes: docs/training.md
#: and docs/results.md.
NEW_STYLE_STEPS = 600

#: Style weight of an added style: twice a new run's (TrainConfig.style_weight), as in the
#: bundled recipe's last stage; in blind tests the added style looked more like its painting
#: and the photo stayed recognisable (docs/training.md).
NEW_STYLE_STYLE_WEIGHT = 1.0

#: What a run from a base model does with the base's trunk (TrainConfig.trunk).
TRUNK_MODES = ("frozen", "tuned")
#: What `add-style` does with it: tuned, as a new style's model is its own (docs/training.md).
NEW_STYLE_TRUNK = "tuned"
#: Where a run from a base model starts its new styles (TrainConfig.style_start).
STYLE_STARTS = ("nearest", "mean")

DEFAULT_CONTENT_LAYERS = {"relu4_2": 1.0}
#: Deeper layers weigh more: relu4_1 and relu5_1 carry a painting's motifs (swirls, stars,
#: crests), the first layers little beyond colour and fine hatching (docs/training.md).
DEFAULT_STYLE_LAYERS = {
    "relu1_1": 0.25,
    "relu2_1": 0.5,
    "relu3_1": 1.0,
    "relu4_1": 2.0,
    "relu5_1": 4.0,
}


@dataclass
class TrainConfig:
    """Options of one training run; defaults are the ones documented in docs/training.md."""

    content_dir: str
    styles: dict[str, str]
    extra_real: dict[str, str] = field(default_factory=dict)
    preset: str = "fast"
    steps: int = 2000
    batch_size: int = 4
    crop_size: int = 256
    style_size: int = 512
    lr: float = 1e-3
    style_lr_scale: float = 5.0
    content_weight: float = 1.0
    style_weight: float = 0.5
    adv_weight: float = 0.05
    tv_weight: float = 0.0
    #: Weight of the stability term: how far the output moves when the photo moves by a
    #: little noise (`stability_noise`, standard deviation in [0, 1] units), relative to it.
    #: Off by default: it paints smooth areas flat (docs/training.md).
    stability_weight: float = 0.0
    stability_noise: float = 3 / 255
    gan_loss: str = "bce"
    content_layers: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CONTENT_LAYERS))
    style_layers: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STYLE_LAYERS))
    seed: int = 0
    vgg_weights: str | None = None
    #: Start from this model ('bundled', a run folder or a checkpoint): its trunk and styles
    #: stay as they are, only the per-style parameters of `styles` are trained.
    base: str | None = None
    #: With `base`: "frozen" keeps the base's trunk (its styles come out unchanged), "tuned"
    #: trains it too, for the new styles alone (the base's styles are left out of the model).
    trunk: str = "frozen"
    #: With `base`: where new styles' per-style parameters start: the "nearest" base style to
    #: the painting (in the style loss), or the "mean" of the base's styles, which mixes in
    #: all their motifs (docs/training.md).
    style_start: str = "nearest"
    #: Keep the paintings' frames, borders and margins (otherwise cut off: training/borders.py).
    keep_borders: bool = False

    def validate(self) -> None:
        """Raise TrainingError (one line) for options out of range."""
        from style_plugin.training.losses import GAN_LOSSES

        weights = ("content_weight", "style_weight", "adv_weight", "tv_weight", "stability_weight")
        for name in weights:
            value = getattr(self, name)
            if not (value >= 0 and value < float("inf")):
                raise TrainingError(
                    f"--{name.replace('_', '-')} must be >= 0 and finite, got {value}"
                )
        for name, layers in (
            ("content-layers", self.content_layers),
            ("style-layers", self.style_layers),
        ):
            if not layers:
                raise TrainingError(f"--{name} must name at least one layer")
            bad = {k: v for k, v in layers.items() if not (0 <= v < float("inf"))}
            if bad:
                raise TrainingError(f"--{name} weights must be >= 0 and finite, got {bad}")
        if not 0 < self.stability_noise <= 0.25:
            raise TrainingError(
                f"--stability-noise must be in (0, 0.25], got {self.stability_noise}"
            )
        if self.content_weight == 0 and self.style_weight == 0:
            raise TrainingError("--content-weight and --style-weight cannot both be 0")
        for name in ("steps", "batch_size"):
            if getattr(self, name) < 1:
                raise TrainingError(f"--{name.replace('_', '-')} must be >= 1")
        if not 16 <= self.crop_size <= 4096:
            raise TrainingError(f"--crop-size must be between 16 and 4096, got {self.crop_size}")
        if self.style_size < 16:
            raise TrainingError(f"--style-size must be >= 16, got {self.style_size}")
        if not 0 < self.lr < 1:
            raise TrainingError(f"--lr must be in (0, 1), got {self.lr}")
        if not 0 < self.style_lr_scale * self.lr < 1:
            raise TrainingError(
                f"--style-lr-scale times --lr must be in (0, 1), got {self.style_lr_scale * self.lr}"
            )
        if self.gan_loss not in GAN_LOSSES:
            raise TrainingError(
                f"--gan-loss must be one of {', '.join(GAN_LOSSES)}, got {self.gan_loss!r}"
            )
        if not self.styles:
            raise TrainingError("give at least one --style NAME=PATH")
        for name in self.styles:
            check_style(name)
        if self.trunk not in TRUNK_MODES:
            raise TrainingError(
                f"--trunk must be one of {', '.join(TRUNK_MODES)}, got {self.trunk!r}"
            )
        if self.style_start not in STYLE_STARTS:
            raise TrainingError(
                f"style_start must be one of {', '.join(STYLE_STARTS)}, got {self.style_start!r}"
            )
        if self.trunk != "frozen" and not self.base:
            raise TrainingError("--trunk goes with --from (a model to start from)")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (str, numbers, dicts) that `torch.load(weights_only=True)` accepts back."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Rebuild from `to_dict` output, ignoring keys this version does not know; a missing
        option or a value of the wrong type (a damaged or crafted checkpoint) is one line."""
        hints = typing.get_type_hints(cls)
        # Runs saved before these options trained without them: they resume as they were.
        data = {"style_lr_scale": 1.0, "stability_weight": 0.0, "keep_borders": True, **data}
        values = {k: v for k, v in data.items() if k in hints}
        for key, value in values.items():
            if not _fits(value, hints[key]):
                expected = getattr(hints[key], "__name__", hints[key])
                raise TrainingError(f"the saved configuration's {key!r} is not {expected}")
        missing = [f.name for f in dataclasses.fields(cls) if f.name not in values]
        required = [name for name in missing if _required(name)]
        if required:
            raise TrainingError(f"the saved configuration lacks {', '.join(required)}")
        return cls(**values)


def check_style(name: str, label: str | None = None) -> None:
    """Raise TrainingError unless a style model may hold a style of this name and label (the
    runtime's rules, `contract.style_problem`): checked before training, not after it."""
    problem = style_problem(name, label)
    if problem:
        shown = name if len(name) <= 40 else f"{name[:40]}..."
        raise TrainingError(f"cannot train style {shown!r}: a model may not hold a {problem}")


def _required(name: str) -> bool:
    """Whether TrainConfig's field `name` has no default."""
    field_ = next(f for f in dataclasses.fields(TrainConfig) if f.name == name)
    no_default = dataclasses.MISSING
    return field_.default is no_default and field_.default_factory is no_default


def _fits(value: Any, hint: Any) -> bool:
    """Whether `value` has the type `hint` names, as far as the outer type goes (ints count
    as floats, bools as neither)."""
    origin = typing.get_origin(hint) or hint
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if isinstance(value, bool):
        return origin is bool
    if origin is float:
        return isinstance(value, int | float)
    return isinstance(value, origin)


def parse_layer_weights(text: str) -> dict[str, float]:
    """Parse 'relu1_1=1,relu2_1=0.5' (a bare name means weight 1) into an ordered dict."""
    from style_plugin.models.vgg import LAYER_INDICES

    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in LAYER_INDICES:
            raise TrainingError(f"unknown VGG layer {name!r}; use names like relu1_1 ... relu5_4")
        try:
            weights[name] = float(value) if value else 1.0
        except ValueError:
            raise TrainingError(f"bad weight {value!r} for layer {name}") from None
    return weights
