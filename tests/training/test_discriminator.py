"""The PatchGAN discriminator (style_plugin/models/discriminator.py): per-style outputs, its
layers, and a measured receptive field."""

from __future__ import annotations

import torch
from torch import nn

from style_plugin.models.discriminator import RECEPTIVE_FIELD, PatchDiscriminator, receptive_field


def test_discriminator_shape_and_style_gather() -> None:
    torch.manual_seed(0)
    d = PatchDiscriminator(num_styles=3, base_channels=8).eval()
    image = torch.rand(4, 3, 64, 80)
    index = torch.tensor([2, 0, 1, 2])
    with torch.no_grad():
        logits = d(image, index)
        assert logits.shape == (4, 1, 6, 8)
        for style in range(3):
            alone = d(image, torch.full((4,), style, dtype=torch.long))
            chosen = index == style
            torch.testing.assert_close(logits[chosen], alone[chosen])
            other = d(image, torch.full((4,), (style + 1) % 3, dtype=torch.long))
            assert (other - alone).abs().max() > 0


def test_discriminator_default_width_and_spectral_norm() -> None:
    d = PatchDiscriminator(2)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 256, 512, 2]
    assert all(c.kernel_size == (4, 4) for c in convs)
    assert [c.stride for c in convs] == [(2, 2), (2, 2), (2, 2), (1, 1), (1, 1)]
    assert all(torch.nn.utils.parametrize.is_parametrized(c, "weight") for c in convs)
    assert all(type(c.parametrizations.weight[0]).__name__ == "_SpectralNorm" for c in convs)
    assert any(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in d.modules())
    with torch.no_grad():
        assert d(torch.rand(1, 3, 256, 256), torch.tensor([1])).shape == (1, 1, 30, 30)


def test_discriminator_receptive_field() -> None:
    assert receptive_field() == RECEPTIVE_FIELD == 70
    torch.manual_seed(0)
    d = PatchDiscriminator(1, base_channels=4).eval()
    image = torch.rand(1, 3, 160, 160, requires_grad=True)
    logits = d(image, torch.zeros(1, dtype=torch.long))
    h, w = logits.shape[-2:]
    logits[0, 0, h // 2, w // 2].backward()
    touched = image.grad.abs().sum(dim=(0, 1)) > 0
    rows = torch.nonzero(touched.any(dim=1)).flatten()
    cols = torch.nonzero(touched.any(dim=0)).flatten()
    assert int(rows[-1] - rows[0] + 1) == RECEPTIVE_FIELD
    assert int(cols[-1] - cols[0] + 1) == RECEPTIVE_FIELD
