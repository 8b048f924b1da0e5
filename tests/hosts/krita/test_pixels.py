"""The Krita plug-in's pixel functions (hooks/hosts/krita/pixels.py): layer bytes in Krita's
byte order and every depth it stores, alpha and the selection mask kept exactly, the filter's
result at the layer's size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from style_plugin.hooks.filters import Filter, Param
from style_plugin.hooks.hosts.krita.pixels import (
    LayerFormat,
    apply_filter_to_pixels,
    filter_layer_bytes,
    layer_format,
    linear_to_srgb,
    mask_from_bytes,
    srgb_to_linear,
    unsupported_reason,
)
from tests.hosts.krita.samples import U8, sample_pixels


class InvertFilter(Filter):
    """A cheap stand-in filter: inverts RGB, keeps alpha (as RGBA images come back)."""

    name = "invert"
    label = "Invert"
    description = "Inverts colours."

    def params(self) -> list[Param]:
        return []

    def run(self, image, params, progress, cancel):
        array = np.asarray(image)
        rgb = 255 - np.asarray(array[..., :3], dtype=np.uint8)
        return Image.fromarray(rgb, "RGB")


def test_bgra_bytes_become_rgba_and_back():
    data = bytes([10, 20, 30, 40, 1, 2, 3, 255])  # two pixels: B, G, R, A
    rgba, alpha = U8.decode(data, 2, 1)
    assert rgba.tolist() == [[[30, 20, 10, 40], [3, 2, 1, 255]]]
    assert U8.encode(rgba[..., :3], alpha) == data


def test_16_bit_channels_are_native_words():
    words = np.array([[[1000, 2000, 3000, 65535]]], dtype=np.uint16)  # B, G, R, A
    fmt = LayerFormat("RGBA", "U16")
    rgba, alpha = fmt.decode(words.tobytes(), 1, 1)
    assert rgba.dtype == np.uint16
    assert rgba.tolist() == [[[3000, 2000, 1000, 65535]]]
    assert fmt.encode(rgba[..., :3], alpha) == words.tobytes()


def test_wrong_sizes_are_errors():
    with pytest.raises(ValueError, match="expected 32 bytes"):
        U8.decode(bytes(31), 2, 4)
    with pytest.raises(ValueError, match="selection bytes"):
        mask_from_bytes(bytes(7), 2, 4)


def test_rgb_and_gray_layers_of_every_depth_are_taken_other_models_refused():
    for model in ("RGBA", "GRAYA"):
        for depth in ("U8", "U16", "F16", "F32"):
            assert unsupported_reason(model, depth) is None
    assert "CMYKA" in unsupported_reason("CMYKA", "U8")
    assert "Convert Image Color Space" in unsupported_reason("LABA", "U16")
    assert "F64" in unsupported_reason("RGBA", "F64")
    assert layer_format("RGBA", "F32", "sRGB-elle-V2-g10.icc").linear
    assert layer_format("RGBA", "F16", "scRGB (linear)").linear
    assert not layer_format("RGBA", "F32", "sRGB-elle-V2-srgbtrc.icc").linear
    assert not layer_format("RGBA", "U16", "sRGB-elle-V2-g10.icc").linear  # integers: as stored
    with pytest.raises(ValueError, match="CMYKA"):
        layer_format("CMYKA", "U8")


def test_srgb_transfer_functions_are_inverse():
    values = np.linspace(0, 1, 1001)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(values)), values, atol=1e-12)
    assert linear_to_srgb(np.array([0.18]))[0] == pytest.approx(0.4614, abs=1e-4)


@pytest.mark.parametrize("depth", ["F16", "F32"])
def test_float_linear_layers_go_through_without_banding(depth: str):
    """A smooth linear gradient keeps thousands of levels through decode and encode (the
    filter's 16-bit integers), and float alpha comes back exactly."""
    fmt = layer_format("RGBA", depth, "sRGB-elle-V2-g10.icc")
    width = 4096
    ramp = np.linspace(0, 1, width)
    pixels = np.stack([ramp, ramp**2, 1 - ramp, np.linspace(1, 0.25, width)], axis=-1)
    data = pixels[None].astype(fmt.dtype).tobytes()
    working, alpha = fmt.decode(data, width, 1)
    assert working.dtype == np.uint16
    assert len(np.unique(working[..., 0])) > 3000  # an 8-bit path would leave 256
    back = np.frombuffer(fmt.encode(working[..., :3], alpha), dtype=fmt.dtype).reshape(1, width, 4)
    stored = pixels[None].astype(fmt.dtype)
    np.testing.assert_array_equal(back[..., 3], stored[..., 3])
    np.testing.assert_allclose(
        back[..., :3], stored[..., :3], atol=2e-3 if depth == "F16" else 1e-4
    )


def test_gray_layers_are_filtered_as_rgb_and_come_back_as_luma():
    fmt = LayerFormat("GRAYA", "U8")
    gray = np.array([[[0, 255], [100, 128], [255, 0]]], dtype=np.uint8)  # gray, alpha
    data = filter_layer_bytes(InvertFilter(), gray.tobytes(), 3, 1, fmt)
    np.testing.assert_array_equal(
        np.frombuffer(data, np.uint8).reshape(1, 3, 2), [[[255, 255], [155, 128], [0, 0]]]
    )


def test_filter_result_keeps_alpha_exactly(stylize: Filter):
    rgba = sample_pixels()
    params = {"style": "the_scream", "strength": 0.7}
    result = apply_filter_to_pixels(stylize, rgba, params)
    expected = np.asarray(stylize.apply(rgba, params).convert("RGB"))
    assert result.dtype == np.uint8 and result.shape == rgba.shape
    np.testing.assert_array_equal(result[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(result[..., :3], expected)


def test_selection_mask_multiplies_alpha():
    rgba = sample_pixels()
    mask = np.zeros(rgba.shape[:2], np.uint8)
    mask[:, 10:20] = 255
    mask[:, 20:30] = 128
    result = apply_filter_to_pixels(InvertFilter(), rgba, {}, mask)
    alpha = rgba[..., 3].astype(int)
    np.testing.assert_array_equal(result[:, :10, 3], 0)
    np.testing.assert_array_equal(result[:, 10:20, 3], alpha[:, 10:20])
    np.testing.assert_array_equal(result[:, 20:30, 3], (alpha[:, 20:30] * 128 + 127) // 255)
    np.testing.assert_array_equal(result[:, 30:, 3], 0)
    np.testing.assert_array_equal(result[..., :3], 255 - rgba[..., :3])
    with pytest.raises(ValueError, match="selection mask"):
        apply_filter_to_pixels(InvertFilter(), rgba, {}, mask[1:])


def test_16_bit_layers_keep_their_alpha_and_depth():
    rgba = sample_pixels().astype(np.uint16) * 257
    rgba[..., 3] += 3  # alpha values that 8 bits could not hold
    rgba[..., 3] = np.minimum(rgba[..., 3], 65535)
    result = apply_filter_to_pixels(InvertFilter(), rgba, {})
    assert result.dtype == np.uint16
    np.testing.assert_array_equal(result[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(result[..., :3], (255 - rgba[..., :3] // 257) * 257)


def test_scaled_down_results_come_back_at_full_size(stylize: Filter):
    rgba = sample_pixels(48, 36)
    result = apply_filter_to_pixels(stylize, rgba, {"max_side": 24})
    assert result.shape == rgba.shape
    np.testing.assert_array_equal(result[..., 3], rgba[..., 3])


def test_layer_bytes_in_layer_bytes_out():
    rgba = sample_pixels()
    height, width = rgba.shape[:2]
    selection = np.full((height, width), 200, np.uint8)
    data = U8.encode(rgba[..., :3], rgba[..., 3])
    result = filter_layer_bytes(InvertFilter(), data, width, height, U8, {}, selection.tobytes())
    expected = apply_filter_to_pixels(InvertFilter(), rgba, {}, selection)
    np.testing.assert_array_equal(U8.decode(result, width, height)[0], expected)
