"""The feed-forward style network: a content-generator trunk steered by a style generator.

The *content generator* is the trunk that turns a photo into a stylized image in one pass: a
reflection-padded convolutional encoder (down to 1/4 resolution), residual blocks at 1/4
resolution, and a decoder of nearest-neighbour upsampling + convolution (no transposed
convolutions, so no checkerboard artefacts). A preset with three widths keeps feature maps
at full resolution (the pytorch/examples network); one with two starts with a stride-2
convolution and ends with an upsampling convolution that writes RGB, which is what makes
`fast` fast: full-resolution feature maps are where a CPU spends its memory bandwidth.
The *style generator* is the set of per-style scale and shift parameters of every
conditional instance normalisation (Dumoulin et al. 2017, "A Learned Representation for
Artistic Style"): one network holds S styles, and any convex mix of their parameters renders
a blend of them.

Exportable to ONNX as it is (the style-model contract: style_plugin/contract.py, docs/style-model.md): inputs `image`
float32 [N,3,H,W] in [0,1] and `style_weights` float32 [N,S], output [N,3,H,W] in [0,1]. The
forward pass has no control flow on tensor values; sizes only drive slicing.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "DEFAULT_PRESET",
    "MIN_SIDE",
    "PRESETS",
    "ConditionalInstanceNorm",
    "Generator",
    "GeneratorPreset",
    "UpsampleConv",
    "generator_flops",
    "resolve_preset",
]


@dataclass(frozen=True)
class GeneratorPreset:
    """A named size of the trunk.

    `channels` are the encoder widths from the highest resolution down (the decoder mirrors
    them): three for full, 1/2 and 1/4 resolution, or two for 1/2 and 1/4, where the first
    convolution strides by 2 and the last upsamples straight to RGB. `edge_kernel` is the
    (odd) kernel of the first convolution, and of the last one when it runs at full width.
    """

    name: str
    channels: tuple[int, ...]
    residual_blocks: int
    edge_kernel: int

    def __post_init__(self) -> None:
        if len(self.channels) not in (2, 3) or min(self.channels) < 1:
            raise ValueError(f"preset {self.name!r}: channels must be two or three positive widths")
        if self.residual_blocks < 0:
            raise ValueError(f"preset {self.name!r}: residual_blocks must be >= 0")
        if self.edge_kernel < 1 or self.edge_kernel % 2 == 0:
            raise ValueError(f"preset {self.name!r}: edge_kernel must be odd and positive")

    @property
    def full_resolution(self) -> bool:
        """Whether the trunk keeps feature maps at full resolution (three widths)."""
        return len(self.channels) == 3

    @property
    def min_side(self) -> int:
        """Smallest H and W this preset accepts (see `MIN_SIDE`)."""
        return _min_side(self.edge_kernel)


def _min_side(edge_kernel: int) -> int:
    """Smallest side for which every reflection pad is narrower than its input.

    Full resolution needs side > edge_kernel // 2; the 1/4 level (ceil(ceil(side/2)/2)) needs
    at least 2 pixels for the 3x3 pads of the residual blocks (and more than one pixel for
    instance statistics), which holds from side 5 on.
    """
    side = 1
    while not (side > edge_kernel // 2 and math.ceil(math.ceil(side / 2) / 2) >= 2):
        side += 1
    return side


PRESETS: dict[str, GeneratorPreset] = {
    # The pytorch/examples fast_neural_style TransformerNet size (~322 GFLOP at 1024x1024).
    "johnson": GeneratorPreset("johnson", (32, 64, 128), residual_blocks=5, edge_kernel=9),
    # No full-resolution feature maps: a 5x5 stride-2 stem, four residual blocks at 64
    # channels (where the capacity lives), and an upsampling 3x3 convolution to RGB. About
    # 0.17 x johnson's FLOPs, and in onnxruntime far less memory traffic (docs/results.md).
    "fast": GeneratorPreset("fast", (32, 64), residual_blocks=4, edge_kernel=5),
}
DEFAULT_PRESET = "fast"

#: Smallest H and W (in pixels) that every preset accepts: reflection padding needs each pad
#: narrower than its input at every level (the 9x9 edge convolution needs > 4 pixels, the 1/4
#: resolution level needs 2). The runtime pads smaller images up to this size (and crops the
#: result back); `Generator` raises ValueError below it.
MIN_SIDE: int = max(p.min_side for p in PRESETS.values())


def resolve_preset(preset: str | GeneratorPreset) -> GeneratorPreset:
    """The preset object for a name (or the object itself); ValueError names the choices."""
    if isinstance(preset, GeneratorPreset):
        return preset
    try:
        return PRESETS[preset]
    except KeyError:
        raise ValueError(
            f"unknown generator preset {preset!r}; choose one of {', '.join(PRESETS)}"
        ) from None


class ConditionalInstanceNorm(nn.Module):
    """Instance normalisation followed by a per-style scale and shift.

    Parameters `gamma` and `beta` are [S,C] (one row per style, initialised to 1 and 0). For
    style weights [N,S] whose rows are convex mixes, sample n uses `style_weights[n] @ gamma`
    and `style_weights[n] @ beta`: a one-hot row selects a style, any other row blends them.
    Statistics are computed in float32 even under autocast (half-precision instance norm is
    unreliable, see onnxruntime issue 10079).
    """

    def __init__(self, num_styles: int, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_styles = num_styles
        self.channels = channels
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(num_styles, channels))
        self.beta = nn.Parameter(torch.zeros(num_styles, channels))

    def forward(self, x: Tensor, style_weights: Tensor) -> Tensor:
        """Normalise x [N,C,H,W] per sample and channel, then apply each sample's style mix."""
        dtype = x.dtype
        if dtype != torch.float32:
            x = x.float()
        weights = style_weights.to(self.gamma.dtype)
        gamma = (weights @ self.gamma)[:, :, None, None]
        beta = (weights @ self.beta)[:, :, None, None]
        y = F.instance_norm(x, eps=self.eps) * gamma + beta
        return y if dtype == torch.float32 else y.to(dtype)

    def extra_repr(self) -> str:
        return f"num_styles={self.num_styles}, channels={self.channels}, eps={self.eps}"


class _ConvNormRelu(nn.Module):
    """Reflection pad + convolution (no bias: the norm removes it) + CIN + optional ReLU."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        stride: int,
        num_styles: int,
        relu: bool = True,
    ) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride=stride, bias=False)
        self.norm = ConditionalInstanceNorm(num_styles, out_channels)
        self.relu = relu

    def forward(self, x: Tensor, style_weights: Tensor) -> Tensor:
        y = self.norm(self.conv(self.pad(x)), style_weights)
        return F.relu(y) if self.relu else y


class _ResidualBlock(nn.Module):
    """Two 3x3 conv + CIN layers with a ReLU between and an identity skip around them."""

    def __init__(self, channels: int, num_styles: int) -> None:
        super().__init__()
        self.first = _ConvNormRelu(channels, channels, 3, 1, num_styles)
        self.second = _ConvNormRelu(channels, channels, 3, 1, num_styles, relu=False)

    def forward(self, x: Tensor, style_weights: Tensor) -> Tensor:
        return x + self.second(self.first(x, style_weights), style_weights)


class UpsampleConv(nn.Module):
    """Nearest-neighbour x2 upsampling to `size`, edge-replicating pad, 3x3 convolution.

    A stride-2 conv maps side s to c = ceil(s/2), so `size` is 2c or 2c - 1 per axis, and
    nearest resizing ties output pixel j to coarse pixel j // 2 ("upsample x2, crop the extra
    row"). Replicating the upsampled map's edge is clamping the coarse map's, so this layer is
    exactly a 3x3 convolution at the coarse resolution with one kernel per pixel of each 2x2
    output block, then depth-to-space: the exporter runs narrowing layers that way
    (exporters/tileable.py) and never materialises their upsampled input. Resizing to a size,
    not slicing, keeps the traced graph free of parity-dependent guards. With `sigmoid` (the
    layer that writes RGB) the output goes through a sigmoid.
    """

    def __init__(
        self, in_channels: int, out_channels: int, bias: bool = False, sigmoid: bool = False
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, bias=bias)
        self.sigmoid = sigmoid

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        upsampled = F.interpolate(x, size=size, mode="nearest")
        y = self.conv(F.pad(upsampled, (1, 1, 1, 1), mode="replicate"))
        return torch.sigmoid(y) if self.sigmoid else y


class _UpConvNormRelu(nn.Module):
    """`UpsampleConv` + CIN + ReLU: one decoder level."""

    def __init__(self, in_channels: int, out_channels: int, num_styles: int) -> None:
        super().__init__()
        self.up = UpsampleConv(in_channels, out_channels)
        self.norm = ConditionalInstanceNorm(num_styles, out_channels)

    def forward(self, x: Tensor, like: Tensor, style_weights: Tensor) -> Tensor:
        return F.relu(self.norm(self.up(x, like.shape[-2:]), style_weights))


class Generator(nn.Module):
    """The conditional style network: image [N,3,H,W] in [0,1] + style weights [N,S] -> image.

    Any H, W >= `MIN_SIDE` (odd sizes included) gives an output of exactly the input size.
    `style_weights` rows are convex mixes of the S styles (one-hot = one style; see
    `one_hot`). The output comes from a sigmoid, so it lies in [0,1].
    """

    def __init__(self, num_styles: int = 1, preset: str | GeneratorPreset = DEFAULT_PRESET):
        super().__init__()
        if num_styles < 1:
            raise ValueError(f"num_styles must be >= 1, not {num_styles}")
        self.num_styles = num_styles
        self.preset = resolve_preset(preset)
        self.min_side = self.preset.min_side
        k = self.preset.edge_kernel
        s = num_styles
        full = self.preset.full_resolution
        c0 = self.preset.channels[0]  # the full-resolution width, when there is one
        c1, c2 = self.preset.channels[-2:]
        if full:
            self.enc_full = _ConvNormRelu(3, c0, k, 1, s)
            self.enc_half = _ConvNormRelu(c0, c1, 3, 2, s)
        else:
            self.enc_half = _ConvNormRelu(3, c1, k, 2, s)
        self.enc_quarter = _ConvNormRelu(c1, c2, 3, 2, s)
        self.residual = nn.ModuleList(
            _ResidualBlock(c2, s) for _ in range(self.preset.residual_blocks)
        )
        self.dec_half = _UpConvNormRelu(c2, c1, s)
        if full:
            self.dec_full = _UpConvNormRelu(c1, c0, s)
            self.out_pad = nn.ReflectionPad2d(k // 2)
            self.out_conv = nn.Conv2d(c0, 3, k)
        else:
            self.out_up = UpsampleConv(c1, 3, bias=True, sigmoid=True)

    def forward(self, image: Tensor, style_weights: Tensor) -> Tensor:
        """Stylize `image` [N,3,H,W] (RGB, [0,1]) with `style_weights` [N,S]; same-size output."""
        if not (torch.jit.is_tracing() or torch.compiler.is_compiling()):
            self._check_inputs(image, style_weights)
        full = self.enc_full(image, style_weights) if self.preset.full_resolution else image
        half = self.enc_half(full, style_weights)
        x = self.enc_quarter(half, style_weights)
        for block in self.residual:
            x = block(x, style_weights)
        x = self.dec_half(x, half, style_weights)
        if self.preset.full_resolution:
            x = self.out_conv(self.out_pad(self.dec_full(x, full, style_weights)))
            return torch.sigmoid(x)
        return self.out_up(x, image.shape[-2:])

    def _check_inputs(self, image: Tensor, style_weights: Tensor) -> None:
        """Clear errors in eager mode (skipped while tracing/exporting: sizes are symbolic)."""
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"image must be [N,3,H,W], got {list(image.shape)}")
        h, w = image.shape[-2:]
        if min(h, w) < self.min_side:
            raise ValueError(
                f"image is {h}x{w}; the generator needs at least {self.min_side} pixels on each "
                "side (pad smaller images up, as the runtime does)"
            )
        if style_weights.shape != (image.shape[0], self.num_styles):
            raise ValueError(
                f"style_weights must be [N,S] = [{image.shape[0]},{self.num_styles}], "
                f"got {list(style_weights.shape)}"
            )

    def one_hot(self, style_index: int | Tensor, batch: int) -> Tensor:
        """Style weights [batch,S] (float32, on the model's device) selecting one style.

        `style_index` is an int or a 0-d tensor (the same style for every sample), or a
        1-d tensor of `batch` indices (one style per sample).
        """
        device = self.enc_quarter.conv.weight.device
        index = torch.as_tensor(style_index, dtype=torch.long, device=device)
        if index.dim() == 0:
            index = index.expand(batch)
        if index.shape != (batch,):
            raise ValueError(f"style_index must be a scalar or [{batch}] indices")
        if bool(((index < 0) | (index >= self.num_styles)).any()):
            raise ValueError(f"style index out of range for {self.num_styles} style(s)")
        return F.one_hot(index, self.num_styles).to(torch.float32)

    def style_parameters(self) -> Iterator[nn.Parameter]:
        """The style generator: every CIN gamma and beta (train only these to add a style)."""
        for module in self.modules():
            if isinstance(module, ConditionalInstanceNorm):
                yield module.gamma
                yield module.beta

    def content_parameters(self) -> Iterator[nn.Parameter]:
        """The content generator: every parameter that is not a per-style gamma or beta."""
        style = {id(p) for p in self.style_parameters()}
        return (p for p in self.parameters() if id(p) not in style)

    def with_styles(self, indices: Sequence[int]) -> Generator:
        """A new generator with the same trunk and only the styles at `indices`, in that order
        (to ship some styles of a model, e.g. the ones added to a bundled model)."""
        index = torch.as_tensor(list(indices), dtype=torch.long)
        if index.numel() == 0 or bool(((index < 0) | (index >= self.num_styles)).any()):
            raise ValueError(f"style indices must name 1 to {self.num_styles} existing styles")
        per_style = {id(p) for p in self.style_parameters()}
        chosen = Generator(index.numel(), self.preset)
        with torch.no_grad():
            for source, target in zip(self.parameters(), chosen.parameters(), strict=True):
                target.copy_(source[index.to(source.device)] if id(source) in per_style else source)
        return chosen


def _conv_macs(out_h: int, out_w: int, c_in: int, c_out: int, kernel: int) -> int:
    return out_h * out_w * c_out * c_in * kernel * kernel


def generator_flops(
    preset: str | GeneratorPreset, height: int = 1024, width: int = 1024, num_styles: int = 1
) -> int:
    """FLOPs of one forward pass on one image of height x width: 2 x conv multiply-adds.

    Convolutions are the dominant cost (normalisation, ReLU, upsampling and the sigmoid are a
    few operations per activation, well under 1%). `num_styles` does not change the count:
    mixing the style parameters costs S x C multiply-adds per normalisation, independent of
    the image size, and is left out. Exact for any size: stride-2 levels are ceil(side/2).
    """
    del num_styles  # documented above: no size-dependent cost
    p = resolve_preset(preset)
    c0, (c1, c2) = p.channels[0], p.channels[-2:]
    k = p.edge_kernel
    h1, w1 = math.ceil(height / 2), math.ceil(width / 2)
    h2, w2 = math.ceil(h1 / 2), math.ceil(w1 / 2)
    macs = (
        _conv_macs(h2, w2, c1, c2, 3)  # stride 2 -> 1/4
        + 2 * p.residual_blocks * _conv_macs(h2, w2, c2, c2, 3)
        + _conv_macs(h1, w1, c2, c1, 3)  # decoder at 1/2
    )
    if p.full_resolution:
        macs += (
            _conv_macs(height, width, 3, c0, k)  # encoder, full resolution
            + _conv_macs(h1, w1, c0, c1, 3)  # stride 2 -> 1/2
            + _conv_macs(height, width, c1, c0, 3)  # decoder at full resolution
            + _conv_macs(height, width, c0, 3, k)  # output convolution
        )
    else:
        macs += (
            _conv_macs(h1, w1, 3, c1, k)  # stride-2 stem -> 1/2
            + _conv_macs(height, width, c1, 3, 3)  # upsampling output convolution
        )
    return 2 * macs
