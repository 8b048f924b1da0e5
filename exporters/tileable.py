"""The exported form of the generator: the same network, with its normalisation statistics
open to the outside so that the runtime can stylize big images in tiles without seams.

Instance normalisation is global: every tile of an image normalised with its own mean and
variance drifts in colour and contrast from its neighbours. The exported graph therefore
reports the statistics it computed (output `image_norm_stats`) and accepts statistics to use
instead (inputs `norm_stats` and `norm_stats_mix`). The runtime stylizes a thumbnail of the
whole image first, then every tile with the thumbnail's statistics (URST's thumbnail instance
normalisation, Chen et al. 2022). docs/style-model.md is the contract.

With `norm_stats_mix` = 0 (the default the exporter stores for it) the graph computes exactly
what `Generator` does; with 1 it uses `norm_stats` for every normalisation layer.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from style_plugin.models.generator import ConditionalInstanceNorm, Generator

__all__ = ["TileableGenerator", "norm_channels"]


def norm_channels(generator: Generator) -> int:
    """Total channels over all normalisation layers: `norm_stats` has 2x this many columns."""
    return sum(m.channels for m in generator.modules() if isinstance(m, ConditionalInstanceNorm))


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
        mean = x.mean(dim=(2, 3), keepdim=True)
        variance = (x - mean).square().mean(dim=(2, 3), keepdim=True)
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
        y = (x - mean) * torch.rsqrt(variance + self.norm.eps) * gamma + beta
        return y.to(dtype)


class TileableGenerator(nn.Module):
    """(image, style_weights, norm_stats, norm_stats_mix) -> (stylized, image_norm_stats).

    A copy of `generator` (float32, or with `half` a float16 trunk behind float32 inputs and
    outputs; per-style gamma and beta stay float32) whose normalisation layers are `_OpenNorm`.
    """

    def __init__(self, generator: Generator, half: bool = False) -> None:
        super().__init__()
        trunk = copy.deepcopy(generator).eval()
        self.half = half
        if half:
            style = {id(p) for p in trunk.style_parameters()}
            for parameter in trunk.parameters():
                if id(parameter) not in style:
                    parameter.data = parameter.data.half()
        self.shared = _Statistics(norm_channels(trunk))
        offset = 0
        for parent in list(trunk.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, ConditionalInstanceNorm):
                    setattr(parent, name, _OpenNorm(child, self.shared, offset))
                    offset += child.channels
        self.trunk = trunk

    def forward(
        self, image: Tensor, style_weights: Tensor, norm_stats: Tensor, norm_stats_mix: Tensor
    ) -> tuple[Tensor, Tensor]:
        shared = self.shared
        shared.given, shared.mix = norm_stats, norm_stats_mix
        shared.means, shared.variances = [], []
        try:
            stylized = self.trunk(image.half() if self.half else image, style_weights)
            stats = torch.cat([*shared.means, *shared.variances], dim=1)
        finally:
            shared.given = shared.mix = None
        return stylized.float(), stats
