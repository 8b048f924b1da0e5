"""The trainer's losses: content and style (on VGG features), adversarial, total variation,
stability.

Content and style terms are *relative* squared errors: the mean squared error divided by the
mean square of the target. Different VGG weight sources (torchvision's, the Caffe original)
produce activations on very different scales; relative errors keep the default loss weights
meaningful whichever source is loaded, and make each style layer contribute comparably.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

GanLoss = Literal["bce", "lsgan", "hinge"]
GAN_LOSSES: tuple[str, ...] = ("bce", "lsgan", "hinge")


def gram_matrix(features: Tensor) -> Tensor:
    """Channel co-occurrence [N,C,C] of features [N,C,H,W], normalised by C*H*W (in fp32)."""
    n, c, h, w = features.shape
    flat = features.float().reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def relative_mse(prediction: Tensor, target: Tensor) -> Tensor:
    """Mean squared error per sample divided by the target's mean square: shape [N]."""
    dims = tuple(range(1, prediction.dim()))
    error = (prediction.float() - target.float()).pow(2).mean(dim=dims)
    scale = target.float().pow(2).mean(dim=dims).clamp_min(1e-12)
    return error / scale


class PerceptualLoss(nn.Module):
    """Content and style losses of stylized images, measured with a frozen perceptual net.

    Holds each style's Gram matrices (computed once from its painting) so that a batch can mix
    styles: sample n is compared with `style_weights[n] @ grams`.
    """

    def __init__(
        self,
        net: nn.Module,
        paintings: Sequence[Tensor],
        content_layers: Mapping[str, float],
        style_layers: Mapping[str, float],
    ) -> None:
        super().__init__()
        self.net = net
        self.content_layers = dict(content_layers)
        self.style_layers = dict(style_layers)
        self.layers = sorted(set(self.content_layers) | set(self.style_layers))
        device = next(net.buffers()).device
        with torch.no_grad():
            per_style = [self.net(p.unsqueeze(0).to(device), self.style_layers) for p in paintings]
        for layer in self.style_layers:
            grams = torch.cat([gram_matrix(f[layer]) for f in per_style])  # [S,C,C]
            self.register_buffer(f"grams_{layer}", grams, persistent=False)

    def style_targets(self, layer: str, style_weights: Tensor) -> Tensor:
        """Gram targets [N,C,C] for each sample's style mix."""
        grams: Tensor = getattr(self, f"grams_{layer}")
        return torch.einsum("ns,scd->ncd", style_weights.float(), grams)

    def forward(
        self, stylized: Tensor, content: Tensor, style_weights: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Return (content loss, style loss), each a scalar averaged over the batch."""
        with torch.no_grad():
            content_features = self.net(content, list(self.content_layers))
        features = self.net(stylized, self.layers)
        content_loss = sum(
            w * relative_mse(features[layer], content_features[layer]).mean()
            for layer, w in self.content_layers.items()
        )
        style_loss = sum(
            w
            * relative_mse(
                gram_matrix(features[layer]), self.style_targets(layer, style_weights)
            ).mean()
            for layer, w in self.style_layers.items()
        )
        return torch.as_tensor(content_loss), torch.as_tensor(style_loss)


def discriminator_loss(kind: GanLoss, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """How badly the discriminator separates real paintings from generated images."""
    if kind == "bce":
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    if kind == "lsgan":
        return 0.5 * ((real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean())
    if kind == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    raise ValueError(f"unknown GAN loss {kind!r}; choose one of {', '.join(GAN_LOSSES)}")


def generator_adversarial_loss(kind: GanLoss, fake_logits: Tensor) -> Tensor:
    """How well generated images pass as paintings (non-saturating for BCE)."""
    if kind == "bce":
        return F.softplus(-fake_logits).mean()
    if kind == "lsgan":
        return 0.5 * (fake_logits - 1).pow(2).mean()
    if kind == "hinge":
        return -fake_logits.mean()
    raise ValueError(f"unknown GAN loss {kind!r}; choose one of {', '.join(GAN_LOSSES)}")


def total_variation(image: Tensor) -> Tensor:
    """Mean absolute difference between neighbouring pixels: discourages speckle."""
    dx = (image[..., :, 1:] - image[..., :, :-1]).abs().mean()
    dy = (image[..., 1:, :] - image[..., :-1, :]).abs().mean()
    return dx + dy


def smooth_fields(count: int, size: tuple[int, int], generator: torch.Generator) -> Tensor:
    """`count` smooth 8-bit colour fields [count,3,H,W] in [0, 1] (`size` (H, W)), like a clear sky or a
    flat wall: a ramp of up to 50 levels in a random direction and a gentle swell. Photos seldom
    give a crop this smooth, and it is there that an unstable generator paints lines."""
    y, x = torch.meshgrid(
        torch.linspace(-0.5, 0.5, size[0]), torch.linspace(-0.5, 0.5, size[1]), indexing="ij"
    )
    angle = 2 * math.pi * torch.rand(count, 1, 1, generator=generator)
    ramp = (torch.cos(angle) * x + torch.sin(angle) * y)[:, None]
    base = 0.15 + 0.7 * torch.rand(count, 3, 1, 1, generator=generator)
    span = 0.4 * (torch.rand(count, 3, 1, 1, generator=generator) - 0.5)
    bumps = torch.rand(count, 3, 3, 3, generator=generator) - 0.5
    swell = 0.1 * F.interpolate(bumps, size=size, mode="bicubic", align_corners=True)
    return torch.round((base + span * ramp + swell).clamp(0, 1) * 255) / 255


def small_changes(photos: Tensor, noise_std: float, generator: torch.Generator) -> Tensor:
    """A small change to each photo of the batch ([N,3,H,W] in [0, 1]), of one of the two kinds
    a generator must not amplify, chosen at random per photo: sensor-like noise (Gaussian,
    standard deviation `noise_std`), or the photo quantised again to coarser levels (steps of
    1 to 3 of 255, at a random offset), which moves the contour lines of every smooth
    gradient as 8-bit steps do."""
    n = photos.shape[0]
    draws = (
        torch.randn(photos.shape, generator=generator) * noise_std,
        (1 + 2 * torch.rand(n, 1, 1, 1, generator=generator)) / 255,
        torch.rand(n, 1, 1, 1, generator=generator),
        torch.rand(n, 1, 1, 1, generator=generator) < 0.5,
    )
    noise, step, offset, noisy = (d.to(photos.device) for d in draws)  # the photos stay put
    base = photos.detach().float()
    requantised = torch.floor(base / step + offset) * step - base
    return torch.where(noisy, noise, requantised).to(photos.dtype)


def stability_loss(output: Tensor, shaken_output: Tensor, change: Tensor) -> Tensor:
    """How much the output moves when the input moves by `change`, as the squared gain: the
    mean squared change of each output over that of its input, averaged over the batch.

    A generator with a high gain to small differences turns a smooth 8-bit gradient's
    quantisation steps and a photo's sensor noise into lines and flicker; this term keeps the
    gain near 1 (Gupta et al. 2017, "Characterizing and Improving Stability in Neural Style
    Transfer")."""
    moved = (output.float() - shaken_output.float()).pow(2).mean(dim=(1, 2, 3))
    return (moved / change.float().pow(2).mean(dim=(1, 2, 3)).clamp_min(1e-12)).mean()
