"""The GIMP 3 host without GIMP: a filter's schema as procedure arguments and back, and the
pixels between GEGL's bytes and the filter (hooks/hosts/gimp/bridge.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.hooks.filters import Choice, Filter, Param
from style_plugin.hooks.hosts.gimp import bridge
from tests.hosts.gimp.samples import VALUES, as_uint8, gegl_bytes, rgba_photo

# -- schema -> arguments ---------------------------------------------------------------------


def test_float_param_becomes_a_double_argument_with_range_default_and_label() -> None:
    param = Param("strength", "Strength", "float", 0.75, "How much.", minimum=0, maximum=1)
    argument = bridge.argument_for(param)
    assert argument == bridge.Argument(
        "double", "strength", "strength", "Strength", "How much.", 0.75, 0.0, 1.0
    )


def test_unbounded_numbers_get_the_widest_range_gimp_accepts() -> None:
    double = bridge.argument_for(Param("gain", "Gain", "float", 2))
    number = bridge.argument_for(Param("count", "Count", "int", 3, minimum=1, maximum=10**12))
    assert (double.minimum, double.maximum) == (-sys.float_info.max, sys.float_info.max)
    assert (number.kind, number.minimum, number.maximum, number.default) == (
        "int",
        1,
        2**31 - 1,
        3,
    )


def test_bool_string_and_choice_params() -> None:
    boolean = bridge.argument_for(Param("keep_alpha", "Keep_alpha", "bool", True))
    text = bridge.argument_for(Param("title", "Title", "string", None, "A title."))
    choice = bridge.argument_for(
        Param("style", "Style", "choice", "b", choices=(Choice("a", "A_1"), Choice("b", "B")))
    )  # a string, so that GIMP takes a style installed after it recorded the arguments
    assert (boolean.kind, boolean.name, boolean.label, boolean.default) == (
        "boolean",
        "keep-alpha",
        "Keep__alpha",  # a literal underscore, not a mnemonic
        True,
    )
    assert (text.kind, text.default, text.description, text.choices) == (
        "string",
        "",
        "A title.",
        (),
    )
    assert (choice.kind, choice.default, choice.choices) == (
        "string",
        "b",
        (("a", "A__1"), ("b", "B")),
    )
    assert [bridge.offered_value(choice, value) for value in ("a", "gone", "")] == ["a", "b", "b"]


def test_choice_without_choices_is_a_string_with_nothing_to_offer() -> None:
    argument = bridge.argument_for(Param("style", "Style", "choice", None))
    assert (argument.kind, argument.default, argument.choices) == ("string", "", ())


@pytest.mark.parametrize("name", ["image", "run_mode", "drawables", "_hidden", "2x"])
def test_names_gimp_cannot_take_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=repr(name)):
        bridge.argument_name(name)


def test_stylize_schema_maps_to_arguments_and_back(stylize: Filter) -> None:
    arguments = bridge.arguments_for(stylize)
    assert [(a.kind, a.name) for a in arguments] == [
        ("string", "style"),
        ("double", "strength"),
        ("boolean", "preserve-colors"),
        ("double", "scale"),
        ("int", "max-side"),
    ]
    assert [value for value, _ in arguments[0].choices] == ["starry-night", "the_scream"]
    assert arguments[0].default == "starry-night"
    config = {
        "style": "the_scream",
        "strength": 0.5,
        "preserve-colors": True,
        "scale": 2.0,
        "max-side": 64,
    }
    values = bridge.filter_values(arguments, config.__getitem__)
    assert values == {
        "style": "the_scream",
        "strength": 0.5,
        "preserve_colors": True,
        "scale": 2.0,
        "max_side": 64,
    }
    assert stylize.resolve(values) == values
    assert bridge.menu_label(stylize) == "_Stylize..."


# -- pixels ----------------------------------------------------------------------------------


def test_pixels_from_bytes_checks_the_size() -> None:
    rgba = np.random.default_rng(0).random((3, 5, 4), dtype=np.float32)
    assert np.array_equal(bridge.pixels_from_bytes(rgba.tobytes(), 5, 3), rgba)
    with pytest.raises(ValueError, match="5x3"):
        bridge.pixels_from_bytes(rgba.tobytes()[:-4], 5, 3)


def test_filter_input_rounds_to_8_bits_and_clips() -> None:
    rgba = np.array([[[0.5, -0.2, 1.7, 1.0], [np.nan, 1 / 255, 254.6 / 255, 0.0]]], np.float32)
    assert bridge.filter_input(rgba).tolist() == [[[128, 0, 255], [0, 1, 255]]]


def test_result_keeps_the_drawables_alpha_exactly_and_is_scaled_back() -> None:
    rgba = np.random.default_rng(1).random((6, 8, 4), dtype=np.float32)
    small = Image.new("RGB", (4, 3), (255, 0, 51))
    out = bridge.pixels_from_bytes(bridge.pixels_to_bytes(small, rgba), 8, 6)
    assert np.array_equal(out[..., 3], rgba[..., 3])
    assert np.allclose(out[..., :3], [1.0, 0.0, 0.2], atol=1e-6)


def test_progress_fraction() -> None:
    assert [bridge.progress_fraction(d, t) for d, t in [(0, 4), (1, 4), (5, 4), (1, 0)]] == [
        0.0,
        0.25,
        1.0,
        0.0,
    ]


def test_region_matches_the_filter_on_the_same_image(stylize: Filter, tmp_path: Path) -> None:
    image = rgba_photo(tmp_path / "photo.png")
    width, height = image.size
    seen = []
    data = bridge.stylize_region(
        stylize,
        gegl_bytes(image),
        width,
        height,
        VALUES,
        progress=lambda done, total: seen.append(bridge.progress_fraction(done, total)),
    )
    expected = np.asarray(stylize.apply(image, VALUES))
    assert np.array_equal(as_uint8(data, width, height), expected)
    assert seen and seen[-1] == 1.0


def test_region_with_max_side_comes_back_at_full_size(stylize: Filter, tmp_path: Path) -> None:
    image = rgba_photo(tmp_path / "photo.png")
    width, height = image.size
    data = bridge.stylize_region(stylize, gegl_bytes(image), width, height, {"max_side": 32})
    out = as_uint8(data, width, height)
    assert out.shape == (height, width, 4)
    assert np.array_equal(out[..., 3], np.asarray(image)[..., 3])
