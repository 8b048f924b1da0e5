"""The built-in Stylize filter (hooks/stylize_filter.py): its schema offers the installed
styles, and it gives what the Stylizer gives."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from hooks.filters import Param
from hooks.stylize_filter import StylizeFilter
from style_plugin.errors import Cancelled
from style_plugin.runtime.model import load_model
from style_plugin.runtime.stylizer import Stylizer
from tests.synthetic import make_photo


def test_stylize_filter_schema_offers_the_installed_styles(installed):
    style, strength, preserve, max_side = StylizeFilter(device="cpu").params()
    labels = [(s.name, s.label) for s in load_model(installed, device="cpu").styles]
    assert [(c.value, c.label) for c in style.choices] == labels
    assert style.type == "choice" and style.default == labels[0][0]
    assert strength == Param(
        "strength", strength.label, "float", 1.0, strength.description, 0.0, 1.0, 0.05
    )
    rest = [(param.name, param.type) for param in (preserve, max_side)]
    assert rest == [("preserve_colors", "bool"), ("max_side", "int")]


def test_stylize_filter_matches_the_stylizer_and_can_be_cancelled(installed, tmp_path):
    photo = make_photo(tmp_path / "photo.png", 40, 32)
    stylize = StylizeFilter(device="cpu")
    result = stylize.apply(Image.open(photo), {"style": "the_scream", "strength": "0.5"})
    expected = Stylizer(installed, device="cpu").stylize(photo, "the_scream", strength=0.5)
    assert np.array_equal(np.asarray(result), np.asarray(expected))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        stylize.apply(Image.open(photo), cancel=cancel)
