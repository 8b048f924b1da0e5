"""The conditional generator (style_plugin/models/generator.py): presets, shapes, styles,
FLOPs, and its export to ONNX; the PatchGAN is test_discriminator.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from style_plugin.models.generator import (
    DEFAULT_PRESET,
    MIN_SIDE,
    PRESETS,
    ConditionalInstanceNorm,
    Generator,
    GeneratorPreset,
    UpsampleConv,
    generator_flops,
    resolve_preset,
)

TINY = GeneratorPreset("tiny", (4, 8, 8), residual_blocks=1, edge_kernel=9)
#: The two-width topology of `fast`: no full-resolution feature maps.
TINY_HALF = GeneratorPreset("tiny-half", (8, 8), residual_blocks=1, edge_kernel=5)


def _randomise_styles(model: nn.Module, seed: int = 0) -> None:
    """Give every style distinct CIN parameters (they start equal: gamma 1, beta 0)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, ConditionalInstanceNorm):
                module.gamma.copy_(1 + 0.5 * torch.randn(module.gamma.shape, generator=gen))
                module.beta.copy_(0.5 * torch.randn(module.beta.shape, generator=gen))


@pytest.fixture(scope="module", params=[TINY, TINY_HALF], ids=lambda p: p.name)
def two_styles(request) -> Generator:
    torch.manual_seed(0)
    g = Generator(2, request.param).eval()
    _randomise_styles(g)
    return g


# -- generator ---------------------------------------------------------------------------


def test_presets_and_defaults() -> None:
    assert DEFAULT_PRESET == "fast"
    assert set(PRESETS) >= {"fast", "johnson"}
    johnson = PRESETS["johnson"]
    assert (johnson.channels, johnson.residual_blocks, johnson.edge_kernel) == ((32, 64, 128), 5, 9)
    assert Generator().preset is PRESETS["fast"]
    assert Generator(1, "johnson").preset is johnson
    assert resolve_preset(TINY) is TINY
    with pytest.raises(ValueError, match="fast"):
        resolve_preset("nope")
    with pytest.raises(ValueError):
        GeneratorPreset("even", (4, 4, 4), 1, 4)
    with pytest.raises(ValueError, match="two or three"):
        GeneratorPreset("deep", (4, 4, 4, 4), 1, 3)
    assert PRESETS["johnson"].full_resolution and not PRESETS["fast"].full_resolution


def test_min_side_is_the_smallest_working_size() -> None:
    assert max(p.min_side for p in PRESETS.values()) == MIN_SIDE
    g = Generator(1, "johnson").eval()
    with torch.no_grad():
        assert g(torch.rand(1, 3, MIN_SIDE, MIN_SIDE), g.one_hot(0, 1)).shape[-2:] == (
            MIN_SIDE,
            MIN_SIDE,
        )
        with pytest.raises(ValueError, match="at least"):
            g(torch.rand(1, 3, MIN_SIDE - 1, 40), g.one_hot(0, 1))


@pytest.mark.parametrize(
    "size", [(MIN_SIDE, MIN_SIDE), (MIN_SIDE, 40), (37, 53), (6, 9), (64, 64), (203, 7), (8, 101)]
)
def test_output_matches_input_size_and_range(two_styles: Generator, size: tuple[int, int]) -> None:
    image = torch.rand(2, 3, *size)
    with torch.no_grad():
        out = two_styles(image, torch.tensor([[1.0, 0.0], [0.3, 0.7]]))
    assert out.shape == image.shape
    assert out.dtype == torch.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_default_preset_runs_at_odd_size() -> None:
    g = Generator(3).eval()
    with torch.no_grad():
        out = g(torch.rand(1, 3, 37, 53), g.one_hot(2, 1))
    assert out.shape == (1, 3, 37, 53)


def test_styles_change_the_output(two_styles: Generator) -> None:
    image = torch.rand(1, 3, 32, 40).expand(2, 3, 32, 40)
    with torch.no_grad():
        both = two_styles(image, torch.eye(2))
        mix = two_styles(image[:1], torch.tensor([[0.5, 0.5]]))
        only0 = two_styles(image[:1], two_styles.one_hot(0, 1))
    # batch of two with different style weights: different outputs
    assert (both[0] - both[1]).abs().max() > 1e-3
    # samples are independent: sample 0 of the batch equals running it alone
    torch.testing.assert_close(both[:1], only0, atol=1e-5, rtol=0)
    # a mix is neither style
    assert (mix - both[:1]).abs().max() > 1e-3
    assert (mix - both[1:]).abs().max() > 1e-3


def test_conditional_instance_norm_mixes_parameters() -> None:
    norm = ConditionalInstanceNorm(3, 4)
    assert norm.gamma.shape == (3, 4) and norm.beta.shape == (3, 4)
    assert torch.equal(norm.gamma, torch.ones(3, 4)) and torch.equal(norm.beta, torch.zeros(3, 4))
    with torch.no_grad():
        norm.gamma.copy_(torch.arange(12.0).view(3, 4))
        norm.beta.copy_(-torch.arange(12.0).view(3, 4))
    x = torch.randn(2, 4, 5, 6)
    weights = torch.tensor([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
    normalised = (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(
        x.var((2, 3), unbiased=False, keepdim=True) + 1e-5
    )
    gamma = weights @ norm.gamma.detach()
    beta = weights @ norm.beta.detach()
    expected = normalised * gamma[:, :, None, None] + beta[:, :, None, None]
    torch.testing.assert_close(norm(x, weights), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("preset", [TINY, TINY_HALF], ids=lambda p: p.name)
def test_style_parameters_are_per_style(preset: GeneratorPreset) -> None:
    torch.manual_seed(1)
    g = Generator(3, preset)
    norms = [m for m in g.modules() if isinstance(m, ConditionalInstanceNorm)]
    # every normalisation in the trunk is conditional: one per encoder and decoder level
    # (3 and 2 with full-resolution maps, 2 and 1 without) + 2 per residual block
    levels = len(preset.channels)
    assert len(norms) == levels + (levels - 1) + 2 * preset.residual_blocks
    assert not any(isinstance(m, (nn.InstanceNorm2d, nn.BatchNorm2d)) for m in g.modules())
    style = list(g.style_parameters())
    assert len(style) == 2 * len(norms)
    assert all(p.shape[0] == 3 for p in style)
    assert len(list(g.content_parameters())) + len(style) == len(list(g.parameters()))

    out = g(torch.rand(2, 3, 16, 16), g.one_hot(1, 2))
    out.mean().backward()
    for norm in norms:
        for param in (norm.gamma, norm.beta):
            assert param.grad is not None
            assert param.grad[1].abs().sum() > 0
            assert torch.equal(param.grad[0], torch.zeros_like(param.grad[0]))
            assert torch.equal(param.grad[2], torch.zeros_like(param.grad[2]))


def test_one_hot() -> None:
    g = Generator(3, TINY)
    torch.testing.assert_close(g.one_hot(1, 2), torch.tensor([[0.0, 1, 0], [0, 1, 0]]))
    torch.testing.assert_close(g.one_hot(torch.tensor(2), 1), torch.tensor([[0.0, 0, 1]]))
    torch.testing.assert_close(
        g.one_hot(torch.tensor([0, 2]), 2), torch.tensor([[1.0, 0, 0], [0, 0, 1]])
    )
    with pytest.raises(ValueError):
        g.one_hot(3, 1)
    with pytest.raises(ValueError, match="style_weights"):
        g(torch.rand(1, 3, 16, 16), torch.ones(1, 2))


def test_no_transposed_convolutions_and_no_zero_padding() -> None:
    for name in PRESETS:
        g = Generator(2, name)
        kinds = {type(m) for m in g.modules()}
        assert not any(issubclass(k, nn.modules.conv._ConvTransposeNd) for k in kinds)
        convs = [m for m in g.modules() if isinstance(m, nn.Conv2d)]
        # no convolution pads by zeros: encoder layers pad by reflection, the convolutions
        # after an upsampling replicate the edge (UpsampleConv)
        assert all(conv.padding == (0, 0) for conv in convs)
        reflected = sum(isinstance(m, nn.ReflectionPad2d) for m in g.modules())
        upsampling = sum(isinstance(m, UpsampleConv) for m in g.modules())
        assert upsampling == len(g.preset.channels) - 1 + (not g.preset.full_resolution)
        assert reflected + upsampling == len(convs)


def test_upsample_conv_is_nearest_upsampling_then_an_edge_padded_convolution() -> None:
    torch.manual_seed(3)
    layer = UpsampleConv(4, 2, bias=True)
    coarse = torch.rand(1, 4, 5, 6)
    with torch.no_grad():
        out = layer(coarse, (9, 12))  # odd height: the extra upsampled row is cropped
        fine = coarse.repeat_interleave(2, 2).repeat_interleave(2, 3)[:, :, :9]
        expected = F.conv2d(F.pad(fine, (1, 1, 1, 1), mode="replicate"), *layer.conv.parameters())
    torch.testing.assert_close(out, expected)


def test_generator_flops() -> None:
    johnson = generator_flops("johnson")
    fast = generator_flops("fast")
    assert generator_flops(PRESETS["fast"], 1024, 1024) == fast
    # ~323 GFLOP for the Johnson-size generator at 1024x1024 (Johnson et al. 2016's network)
    assert abs(johnson / 323e9 - 1) < 0.15
    assert fast <= johnson / 5
    # conv cost scales with the pixel count
    assert abs(generator_flops("fast", 2048, 2048) / fast - 4) < 0.01


def _count_conv_flops(g: Generator, height: int, width: int) -> int:
    total = 0

    def hook(module: nn.Conv2d, _inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        k = module.kernel_size[0] * module.kernel_size[1]
        total += 2 * output[0].numel() * module.in_channels * k // module.groups

    handles = [m.register_forward_hook(hook) for m in g.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        g(torch.rand(1, 3, height, width), g.one_hot(0, 1))
    for handle in handles:
        handle.remove()
    return total


@pytest.mark.parametrize("size", [(37, 53), (64, 48), (MIN_SIDE, 23)])
def test_generator_flops_matches_a_counted_forward(size: tuple[int, int]) -> None:
    for preset in ("fast", "johnson"):
        g = Generator(1, preset)
        assert _count_conv_flops(g, *size) == generator_flops(preset, *size)


# -- ONNX ----------------------------------------------------------------------------------


@pytest.mark.filterwarnings(
    "ignore::torch.jit.TracerWarning", "ignore::UserWarning", "ignore::DeprecationWarning"
)
def test_onnx_export_matches_torch(two_styles: Generator, tmp_path) -> None:
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    path = tmp_path / "generator.onnx"
    torch.onnx.export(
        two_styles,
        (torch.rand(1, 3, 32, 40), torch.tensor([[1.0, 0.0]])),
        str(path),
        dynamo=False,
        input_names=["image", "style_weights"],
        output_names=["stylized"],
        dynamic_axes={
            "image": {0: "batch", 2: "height", 3: "width"},
            "style_weights": {0: "batch"},
            "stylized": {0: "batch", 2: "height", 3: "width"},
        },
        opset_version=17,
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    cases = [
        (torch.rand(2, 3, 37, 53), torch.tensor([[1.0, 0.0], [0.5, 0.5]])),
        (torch.rand(1, 3, 100, 24), torch.tensor([[0.2, 0.8]])),
        (torch.rand(1, 3, MIN_SIDE, 9), torch.tensor([[0.0, 1.0]])),
    ]
    for image, weights in cases:
        (onnx_out,) = session.run(None, {"image": image.numpy(), "style_weights": weights.numpy()})
        with torch.no_grad():
            torch_out = two_styles(image, weights).numpy()
        assert onnx_out.shape == torch_out.shape
        np.testing.assert_allclose(onnx_out, torch_out, atol=1e-4, rtol=0)


def test_torch_export_keeps_height_and_width_dynamic(two_styles: Generator) -> None:
    """The dynamo exporter's front end: one graph for odd and even sizes alike (no guards on
    parity), valid from MIN_SIDE up."""
    from torch.export import Dim

    batch = Dim("batch")
    dynamic = {
        "image": {0: batch, 2: Dim("height", min=MIN_SIDE), 3: Dim("width", min=MIN_SIDE)},
        "style_weights": {0: batch},
    }
    program = torch.export.export(
        two_styles, (torch.rand(2, 3, 37, 52), torch.eye(2)), dynamic_shapes=dynamic
    )
    exported = program.module()
    for size in [(100, 24), (33, 33), (MIN_SIDE, 8)]:
        image, weights = torch.rand(1, 3, *size), torch.tensor([[0.5, 0.5]])
        with torch.no_grad():
            torch.testing.assert_close(exported(image, weights), two_styles(image, weights))
