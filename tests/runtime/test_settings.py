"""Style settings (style_plugin/runtime/settings.py): one value, checked once, taken by the
Python API as a value or as keywords, with the same result either way."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

import style_plugin
from style_plugin.errors import StylePluginError
from style_plugin.runtime.options import OptionError
from style_plugin.runtime.settings import (
    DEFAULT_SCALE,
    DEFAULT_STRENGTH,
    SCALE_RANGE,
    StyleSettings,
)
from style_plugin.runtime.stylizer import Stylizer
from tests.support import assert_one_line_error, run_cli, sample_photo

FLAGS = {"strength": "--strength", "scale": "--scale", "max_side": "--max-side"}


def test_defaults_and_full_size_spelled_as_none():
    settings = StyleSettings()
    assert (settings.strength, settings.preserve_colors) == (DEFAULT_STRENGTH, False)
    assert (settings.scale, settings.max_side) == (DEFAULT_SCALE, None)
    assert StyleSettings(max_side=0) == settings  # 0 and None both mean full size
    assert StyleSettings(max_side=48).max_side == 48
    with pytest.raises(AttributeError):
        settings.strength = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "python", "cli"),
    [
        ({"strength": 1.5}, "strength must be between 0 and 1, got 1.5", "--strength must"),
        ({"strength": -0.1}, "strength must be between 0 and 1, got -0.1", "--strength must"),
        ({"strength": math.nan}, "strength must be between 0 and 1, got nan", "--strength must"),
        ({"strength": "0.5"}, "strength must be between 0 and 1, got 0.5", "--strength must"),
        ({"scale": -1}, "scale must be 0 (full resolution) to 8, got -1", "--scale must"),
        ({"scale": 100}, "scale must be 0 (full resolution) to 8, got 100", "--scale must"),
        ({"scale": math.inf}, "scale must be 0 (full resolution) to 8, got inf", "--scale"),
        ({"max_side": -1}, "max_side must be a number of pixels, or 0 for full size; got -1", "--max-side must"),
    ],
)  # fmt: skip
def test_bad_values_name_the_setting_in_one_line(changes, python, cli):
    with pytest.raises(OptionError) as caught:
        StyleSettings(**changes)
    assert str(caught.value) == python and "\n" not in python
    assert caught.value.naming(FLAGS).startswith(cli)


def test_one_scale_range_for_the_api_the_filter_and_the_cli(capsys):
    from style_plugin.hooks.stylize_filter import StylizeFilter

    low, high = SCALE_RANGE
    assert StyleSettings(scale=low).scale == low and StyleSettings(scale=high).scale == high
    schema = {param.name: param for param in StylizeFilter(device="cpu").params()}["scale"]
    assert (schema.minimum, schema.maximum) == SCALE_RANGE
    code, _, err = run_cli(capsys, "stylize", "photo.png", "--scale", str(high + 0.5))
    assert_one_line_error(code, err, f"--scale must be 0 (full resolution) to {high:g}, got")


@pytest.mark.parametrize(
    ("size", "changes", "notes"),
    [
        ((800, 600), {"scale": 0.5}, ["scale 0.5 has no effect at 800 px: any scale up to 1.28 runs it at its own size"]),
        ((400, 300), {"scale": 2}, ["scale 2 has no effect at 400 px: any scale up to 2.56 runs it at its own size"]),
        ((3000, 2000), {"scale": 0.5, "max_side": 1000}, ["scale 0.5 has no effect at 1000 px: any scale up to 1.02 runs it at its own size"]),
        ((64, 48), {"scale": 8}, ["scale 8 has no effect at 64 px: every scale runs it at its own size"]),
        ((800, 600), {}, []),  # the default
        ((800, 600), {"scale": 0}, []),  # full resolution, as asked
        ((1500, 1000), {"scale": 0.5}, []),  # full size at 0.5, 1024 px at 1
        ((400, 300), {"scale": 3}, []),  # 341 px at 3
    ],
)  # fmt: skip
def test_a_setting_that_changes_nothing_on_an_image_is_noted(size, changes, notes):
    assert StyleSettings(**changes).no_effect_on(Image.new("RGB", size)) == notes


def test_keywords_change_the_settings_given_and_unknown_ones_are_refused():
    base = StyleSettings(strength=0.5, scale=2)
    assert StyleSettings.from_call() == StyleSettings()
    assert StyleSettings.from_call(base) is base
    assert StyleSettings.from_call(base, preserve_colors=True) == StyleSettings(0.5, True, 2)
    assert StyleSettings.from_call(strength=0.3).strength == 0.3
    with pytest.raises(OptionError, match=r"^strength must be between 0 and 1"):
        StyleSettings.from_call(base, strength=2)
    with pytest.raises(TypeError, match=r"'strenght': not a setting .*strength, preserve_colors"):
        StyleSettings.from_call(strenght=0.5)


def test_a_filters_params_give_the_settings_they_name():
    params = {"style": "the_scream", "strength": 0.3, "max_side": 0, "scale": 0.0}
    assert StyleSettings.from_params(params) == StyleSettings(strength=0.3, scale=0)
    assert StyleSettings.from_params({"style": "the_scream"}) == StyleSettings()


def test_settings_as_a_value_or_as_keywords_stylize_alike(style_model):
    stylizer = Stylizer(style_model)
    photo = np.asarray(sample_photo(48, 40))
    half = StyleSettings(strength=0.5, preserve_colors=True)
    by_value = stylizer.stylize_array(photo, "the_scream", half)
    by_keywords = stylizer.stylize_array(photo, "the_scream", strength=0.5, preserve_colors=True)
    assert np.array_equal(by_value, by_keywords)
    assert not np.array_equal(by_value, stylizer.stylize_array(photo, "the_scream"))
    overridden = stylizer.stylize_array(photo, "the_scream", half, strength=0.0)
    assert np.array_equal(overridden, photo)  # a keyword changes the value it is given with
    small = StyleSettings(max_side=24)
    assert stylizer.stylize(photo, "the_scream", small).size == (24, 20)
    assert style_plugin.stylize(photo, "the_scream", small, model=style_model).size == (24, 20)
    with pytest.raises(StylePluginError, match="takes no max_side"):
        stylizer.stylize_array(photo, "the_scream", small)
    with pytest.raises(TypeError, match="not a setting"):
        stylizer.stylize(photo, "the_scream", colour=True)
