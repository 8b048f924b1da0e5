"""A style-conditional PatchGAN discriminator (Isola et al. 2017, "70x70 PatchGAN").

It scores overlapping ~70x70 patches as "painted in style s" or not: one logit per patch,
from the output channel of each sample's style (one network, a head channel per style).

Normalisation: spectral norm on every convolution (Miyato et al. 2018) and no batch or
instance norm layers. Batch norm would mix the statistics of the real and fake halves that
the trainer concatenates into one batch; instance norm would make every logit depend on the
whole image's statistics (no longer a patch judge) and undo the Lipschitz bound spectral norm
gives. Without them each logit sees exactly its receptive field, which the tests check.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["RECEPTIVE_FIELD", "PatchDiscriminator", "receptive_field"]

# (kernel, stride) of the five convolutions, first to last; all use padding 1.
_LAYERS: tuple[tuple[int, int], ...] = ((4, 2), (4, 2), (4, 2), (4, 1), (4, 1))


def receptive_field(layers: tuple[tuple[int, int], ...] = _LAYERS) -> int:
    """Side, in input pixels, of the patch one output logit sees.

    >>> receptive_field()
    70
    """
    field, jump = 1, 1
    for kernel, stride in layers:
        field += (kernel - 1) * jump
        jump *= stride
    return field


#: Side of the square input patch behind each logit of `PatchDiscriminator`.
RECEPTIVE_FIELD: int = receptive_field()


class PatchDiscriminator(nn.Module):
    """Per-patch real/fake logits of images [N,3,H,W] in [0,1], conditioned on a style index.

    Layers (4x4 convolutions, padding 1, LeakyReLU 0.2, spectral norm on each):
    C64 stride 2 - C128 stride 2 - C256 stride 2 - C512 stride 1 - S outputs stride 1, with
    widths scaled by `base_channels` / 64. An H x W input gives about (H/8 - 2) x (W/8 - 2)
    logits (30 x 30 at 256 x 256); sides under 24 pixels give no logit.
    """

    def __init__(self, num_styles: int = 1, base_channels: int = 64) -> None:
        super().__init__()
        if num_styles < 1:
            raise ValueError(f"num_styles must be >= 1, not {num_styles}")
        self.num_styles = num_styles
        widths = [3, base_channels, 2 * base_channels, 4 * base_channels, 8 * base_channels]
        layers: list[nn.Module] = []
        for (kernel, stride), c_in, c_out in zip(
            _LAYERS[:-1], widths[:-1], widths[1:], strict=True
        ):
            layers.append(spectral_norm(nn.Conv2d(c_in, c_out, kernel, stride, padding=1)))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        kernel, stride = _LAYERS[-1]
        layers.append(spectral_norm(nn.Conv2d(widths[-1], num_styles, kernel, stride, padding=1)))
        self.layers = nn.Sequential(*layers)

    def forward(self, image: Tensor, style_index: Tensor) -> Tensor:
        """Logits [N,1,h,w] of `image` [N,3,H,W] ([0,1]) for styles `style_index` (long [N])."""
        logits = self.layers(image * 2.0 - 1.0)  # [N,S,h,w]
        n, _, h, w = logits.shape
        index = style_index.to(device=logits.device, dtype=torch.long)
        index = index.view(n, 1, 1, 1).expand(n, 1, h, w)
        return logits.gather(1, index)
