"""The exported form of the generator: the same network, with its normalisation statistics
open to the outside so that the runtime can stylize big images in tiles without seams.

Instance normalisation is global: every tile of an image normalised with its own mean and
variance drifts in colour and contrast from its neighbours. The exported graph therefore
reports the statistics it computed (output `image_norm_stats`, and each layer's own in
`layer_norm_stats_<k>`) and accepts statistics to use instead (inputs `norm_stats` and
`norm_stats_mix`). The runtime stylizes a thumbnail of the
whole image first, then every tile with the thumbnail's statistics (URST's thumbnail instance
normalisation, Chen et al. 2022). The per-layer outputs let it cut the graph short after an
early layer and make that layer's statistics exact in a cheap pass over the full-size image.
docs/style-model.md is the contract.

With `norm_stats_mix` = 0 (the default the exporter stores for it) the graph computes exactly
what `Generator` does; with 1 it uses `norm_stats` for every normalisation layer.

Two rewrites make the graph cheaper without changing what it computes: each normalisation
reads its input three times (two reductions, one multiply-add), and an upsampling
convolution that narrows to at most a quarter of its input channels (the one that writes
RGB) runs at the coarse resolution in phase form (`_PhaseUpsampleConv`). A wider one stays
as it is: onnxruntime's depth-to-space of 4 x its outputs costs more than the upsampled input
it saves (docs/runtime.md, docs/results.md).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from style_plugin.models.generator import ConditionalInstanceNorm, Generator, UpsampleConv

__all__ = ["TileableGenerator", "norm_channels", "norm_layer_channels"]


def norm_layer_channels(generator: Generator) -> list[int]:
    """The channels of each normalisation layer, in the order they run."""
    return [m.channels for m in generator.modules() if isinstance(m, ConditionalInstanceNorm)]


def norm_channels(generator: Generator) -> int:
    """Total channels over all normalisation layers: `norm_stats` has 2x this many columns."""
    return sum(norm_layer_channels(generator))


class _Statistics:
    """What the normalisation layers of one forward pass share: the statistics given from
    outside, how much to use them, and the statistics each layer computed itself."""

    def __init__(self, total_channels: int) -> None:
        self.total = total_channels
        self.given: Tensor | None = None
        self.mix: Tensor | None = None
        self.means: list[Tensor] = []
        self.variances: list[Tensor] = []


class _OpenNorm(nn.Module):
    """A conditional instance norm whose mean and variance can come from the outside.

    Layer k owns columns [offset, offset + C) of the means and [total + offset, ...) of the
    variances in `norm_stats`. Statistics and the affine run in float32 whatever the trunk's
    precision (float16 instance norm is wrong in onnxruntime, issue 10079).
    """

    def __init__(self, norm: ConditionalInstanceNorm, shared: _Statistics, offset: int) -> None:
        super().__init__()
        self.norm = norm
        self.shared = shared
        self.offset = offset

    def forward(self, x: Tensor, style_weights: Tensor) -> Tensor:
        dtype = x.dtype
        x = x.float()
        # Two means over the activation, then one multiply-add: every op between them is on
        # [N,C,1,1] vectors, so the graph reads the big tensor three times, not six.
        mean = _mean(x)
        variance = (_mean(x.square()) - mean.square()).clamp_min(0)
        self.shared.means.append(mean.flatten(1))
        self.shared.variances.append(variance.flatten(1))
        given, mix = self.shared.given, self.shared.mix
        assert given is not None and mix is not None, "set by TileableGenerator.forward"
        start, channels = self.offset, self.norm.channels
        given_mean = given[:, start : start + channels, None, None]
        given_var = given[:, self.shared.total + start : self.shared.total + start + channels]
        mean = mean + mix * (given_mean - mean)
        variance = variance + mix * (given_var[:, :, None, None] - variance)
        weights = style_weights.to(self.norm.gamma.dtype)
        gamma = (weights @ self.norm.gamma)[:, :, None, None]
        beta = (weights @ self.norm.beta)[:, :, None, None]
        scale = gamma * torch.rsqrt(variance + self.norm.eps)
        return (x * scale + (beta - mean * scale)).to(dtype)


def _mean(x: Tensor) -> Tensor:
    """Per-channel mean over H and W, [N,C,1,1]: along rows, then down the column of row
    means. onnxruntime's one-step mean (GlobalAveragePool) sums millions of float32 values
    into one accumulator and is 0.2% off at 2048x2048 (a 4096 px image's first layer); two
    steps of at most a few thousand each stay within 1e-6, at the same speed."""
    return x.mean(3, keepdim=True).mean(2, keepdim=True)


#: Which coarse offset (-1, 0, +1: rows) each full-resolution tap (-1, 0, +1: columns) of a
#: 3x3 kernel lands on after nearest x2 upsampling, for output phase 0 (even rows) and 1 (odd):
#: full row 2i + p + d reads coarse row i + (p + d) // 2.
_PHASE_TAPS = torch.tensor(
    [
        [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]],
        [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    ]
)


class _PhaseUpsampleConv(nn.Module):
    """`UpsampleConv` computed at the coarse resolution: same output, 4x fewer pixels touched.

    Each output pixel of a 2x2 block is a 3x3 convolution of the edge-clamped coarse map with
    its own kernel (the upsampled kernel's taps summed by `_PHASE_TAPS`); the four results
    interleave by depth-to-space and the extra row/column of odd sizes is cropped.
    """

    def __init__(self, layer: UpsampleConv) -> None:
        super().__init__()
        self.sigmoid = layer.sigmoid
        weight = layer.conv.weight.detach().float()
        out_channels, in_channels = weight.shape[:2]
        taps = _PHASE_TAPS.to(weight.device)
        # [O, phase_y, phase_x, I, 3, 3] -> [O*4, I, 3, 3], the channel order pixel_shuffle reads
        phased = torch.einsum("pay,qbx,oiyx->opqiab", taps, taps, weight)
        bias = layer.conv.bias is not None
        self.conv = nn.Conv2d(in_channels, 4 * out_channels, 3, bias=bias)
        with torch.no_grad():
            self.conv.weight.copy_(phased.reshape(4 * out_channels, in_channels, 3, 3))
            if bias:
                self.conv.bias.copy_(layer.conv.bias.detach().float().repeat_interleave(4))

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        phases = self.conv(F.pad(x, (1, 1, 1, 1), mode="replicate"))
        if self.sigmoid:  # elementwise, so before the shuffle, where it fuses into the conv
            phases = torch.sigmoid(phases)
        return F.pixel_shuffle(phases, 2)[..., : size[0], : size[1]]


def _phase_form(layer: UpsampleConv) -> nn.Module:
    """The coarse-resolution form of a layer that narrows to <= 1/4 of its inputs, else itself."""
    narrowing = 4 * layer.conv.out_channels <= layer.conv.in_channels
    return _PhaseUpsampleConv(layer) if narrowing else layer


def _swap_modules(root: nn.Module, kind: type, make: Callable[[Any], nn.Module]) -> None:
    """Replace every submodule of type `kind` under `root` with `make(module)`, in order."""
    for parent in list(root.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, kind):
                setattr(parent, name, make(child))


class TileableGenerator(nn.Module):
    """(image, style_weights, norm_stats, norm_stats_mix) -> (stylized, image_norm_stats,
    layer_norm_stats_0, ...): every layer's own means then variances, all layers together
    and then one output per layer.

    A copy of `generator` (float32, or with `half` a float16 trunk behind float32 inputs and
    outputs; per-style gamma and beta stay float32) whose normalisation layers are `_OpenNorm`.
    """

    def __init__(self, generator: Generator, half: bool = False) -> None:
        super().__init__()
        trunk = copy.deepcopy(generator).float().eval()
        _swap_modules(trunk, UpsampleConv, _phase_form)
        self.half = half
        if half:
            style = {id(p) for p in trunk.style_parameters()}
            for parameter in trunk.parameters():
                if id(parameter) not in style:
                    parameter.data = parameter.data.half()
        self.shared = _Statistics(norm_channels(trunk))
        offset = 0  # layers own consecutive columns, in module order

        def open_norm(norm: ConditionalInstanceNorm) -> _OpenNorm:
            nonlocal offset
            opened = _OpenNorm(norm, self.shared, offset)
            offset += norm.channels
            return opened

        _swap_modules(trunk, ConditionalInstanceNorm, open_norm)
        self.trunk = trunk

    def forward(
        self, image: Tensor, style_weights: Tensor, norm_stats: Tensor, norm_stats_mix: Tensor
    ) -> tuple[Tensor, ...]:
        shared = self.shared
        shared.given, shared.mix = norm_stats, norm_stats_mix
        shared.means, shared.variances = [], []
        try:
            stylized = self.trunk(image.half() if self.half else image, style_weights)
            stats = torch.cat([*shared.means, *shared.variances], dim=1)
            layers = [
                torch.cat(pair, dim=1) for pair in zip(shared.means, shared.variances, strict=True)
            ]
        finally:
            shared.given = shared.mix = None
        return stylized.float(), stats, *layers
