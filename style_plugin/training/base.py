"""Start a run from an existing model: its trunk frozen, its styles kept, new styles added.

A generator with conditional instance normalisation learns a new style from that style's
per-layer scale and shift alone (Dumoulin et al. 2017, "A Learned Representation for Artistic
Style"), which takes minutes where a whole model takes hours. The base is the bundled model
(its generator ships beside default.onnx as a checkpoint without optimiser states, because
the fp16 ONNX graph cannot give back exact trainable weights), a run folder or a checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from style_plugin.bundled import DATA_DIR
from style_plugin.errors import TrainingError
from style_plugin.models.generator import Generator
from style_plugin.training.checkpoint import load_checkpoint, save_checkpoint
from style_plugin.training.losses import PerceptualLoss, gram_matrix, relative_mse

#: What `--from` accepts for the model that ships in the package.
BUNDLED = "bundled"
#: The bundled model's generator as a checkpoint (style_plugin/data/models/default.onnx's twin).
BUNDLED_CHECKPOINT = DATA_DIR / "models" / "default.pt"


@dataclass(frozen=True)
class BaseModel:
    """The generator a run starts from and the styles it already holds."""

    source: str
    preset: str
    style_names: tuple[str, ...]
    style_labels: dict[str, str]
    generator: dict[str, Tensor]


def load_base(source: str) -> BaseModel:
    """The base named by `--from`: 'bundled', a run folder or a checkpoint file; an ONNX style
    model or anything else is a one-line TrainingError."""
    path = BUNDLED_CHECKPOINT if source == BUNDLED else Path(source)
    if path.suffix.lower() == ".onnx":
        raise TrainingError(
            f"{source} is an ONNX style model, which keeps no trainable weights; "
            f"start from {BUNDLED!r}, a training run folder or a checkpoint file"
        )
    if not path.exists():
        raise TrainingError(f"--from {source}: no such run folder or checkpoint file")
    state = load_checkpoint(path)
    names = tuple(state["style_names"])
    preset = state.get("preset") or state["config"].get("preset")
    return BaseModel(
        source=source,
        preset=str(preset),
        style_names=names,
        style_labels=dict(state.get("style_labels", {})),
        generator=state["generator"],
    )


def extend_generator(generator: Generator, base: BaseModel) -> None:
    """Load the base into `generator`, which has the base's styles first and new ones after:
    the trunk and the base styles' rows as they are, each new style's rows at the mean of the
    base styles' (a neutral start between the styles the trunk knows)."""
    offset = len(base.style_names)
    state = generator.state_dict()
    try:
        for key, value in base.generator.items():
            target = state[key]
            if value.shape == target.shape:
                target.copy_(value)
            elif value.shape[1:] == target.shape[1:] and value.shape[0] == offset:
                target[:offset] = value
                target[offset:] = value.float().mean(dim=0, keepdim=True)
            else:
                raise RuntimeError(f"{key} has shape {list(value.shape)}")
        missing = set(state) - set(base.generator)
        if missing:
            raise RuntimeError(f"it lacks {sorted(missing)[0]}")
    except (KeyError, RuntimeError) as exc:
        raise TrainingError(
            f"the generator of --from {base.source} does not fit a {generator.preset.name} "
            f"model: {exc}"
        ) from None
    generator.load_state_dict(state)


@torch.no_grad()
def start_from_nearest(
    generator: Generator, offset: int, photos: Tensor, perceptual: PerceptualLoss
) -> list[int]:
    """Start each new style (after the `offset` base styles) from the base style that paints
    most like it: the one whose output on `photos` is nearest the new painting in the style
    loss. Returns the chosen base index per new style."""
    num_new = generator.num_styles - offset
    distances = torch.zeros(offset, num_new)
    for base_index in range(offset):
        weights = generator.one_hot(base_index, photos.shape[0])
        features = perceptual.net(generator(photos, weights), list(perceptual.style_layers))
        for new_index in range(num_new):
            target = generator.one_hot(offset + new_index, photos.shape[0])
            distances[base_index, new_index] = sum(
                w
                * relative_mse(
                    gram_matrix(features[layer]),
                    perceptual.style_targets(layer, target[:, offset:]),
                ).mean()
                for layer, w in perceptual.style_layers.items()
            )
    chosen = distances.argmin(dim=0).tolist()
    for parameter in generator.style_parameters():
        for new_index, base_index in enumerate(chosen):
            parameter[offset + new_index] = parameter[base_index]
    return chosen


@torch.no_grad()
def start_from_namesakes(
    generator: Generator, base_styles: Sequence[str], new_styles: Sequence[str]
) -> None:
    """Start each new style named like a base style from that style's parameters (a base
    style retrained on a new painting or recipe, with the trunk tuned)."""
    offset = len(base_styles)
    for new_index, name in enumerate(new_styles):
        if name in base_styles:
            for parameter in generator.style_parameters():
                parameter[offset + new_index] = parameter[base_styles.index(name)]


def freeze_trunk(generator: Generator) -> None:
    """Train only the per-style parameters: the shared trunk keeps the base's weights."""
    for parameter in generator.content_parameters():
        parameter.requires_grad_(False)


class NewStyles(nn.Module):
    """The generator seen through its last styles: style weights over the styles being
    trained, padded with zeros for the `offset` base styles before them."""

    def __init__(self, generator: Generator, offset: int) -> None:
        super().__init__()
        self.generator = generator
        self.offset = offset

    def forward(self, image: Tensor, style_weights: Tensor) -> Tensor:
        """Stylize with a mix of the new styles only."""
        padded = torch.nn.functional.pad(style_weights, (self.offset, 0))
        return self.generator(image, padded)


def write_bundled_checkpoint(source: str | Path, labels: dict[str, str], output: Path) -> None:
    """Write the generator of a run or checkpoint, with the display labels of its styles, as
    the package's base checkpoint (no optimiser or discriminator states: about 1.3 MB)."""
    state = load_checkpoint(source)
    kept = (
        "step",
        "config",
        "style_names",
        "preset",
        "losses",
        "elapsed_s",
        "vgg_source",
        "package_version",
    )
    trimmed = {key: state[key] for key in kept if key in state}
    trimmed["generator"] = {k: v.float() for k, v in state["generator"].items()}
    trimmed["style_labels"] = {n: labels[n] for n in state["style_names"] if n in labels}
    save_checkpoint(output, trimmed)
