"""The built-in Stylize filter (hooks/stylize_filter.py): its schema offers the installed
styles, and it gives what the Stylizer gives."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from style_plugin.errors import Cancelled
from style_plugin.hooks.filters import Param
from style_plugin.hooks.stylize_filter import StylizeFilter
from style_plugin.runtime.model import load_model
from style_plugin.runtime.stylizer import Stylizer
from tests.support import make_photo


def test_stylize_filter_schema_offers_the_installed_styles(installed):
    style, strength, preserve, scale, max_side = StylizeFilter(device="cpu").params()
    labels = [(s.name, s.label) for s in load_model(installed, device="cpu").styles]
    assert [(c.value, c.label) for c in style.choices] == labels
    assert style.type == "choice" and style.default == labels[0][0]
    assert strength == Param(
        "strength", strength.label, "float", 0.8, strength.description, 0.0, 1.0, 0.05
    )
    rest = [(param.name, param.type, param.default) for param in (preserve, scale, max_side)]
    assert rest == [
        ("preserve_colors", "bool", False),
        ("scale", "float", 1.0),
        ("max_side", "int", 0),
    ]
    assert (scale.minimum, scale.maximum) == (0.0, 8.0)


def test_every_entry_point_has_the_same_default_strength() -> None:
    import inspect

    from style_plugin.cli.stylize import stylize as stylize_command
    from style_plugin.distributed.dataset import stylize_dataset
    from style_plugin.distributed.portable import PortableJob
    from style_plugin.runtime.jobs import stylize_job
    from style_plugin.runtime.settings import DEFAULT_STRENGTH, StyleSettings
    from style_plugin.runtime.stylizer import stylize

    (strength,) = [p for p in StylizeFilter(device="cpu").params() if p.name == "strength"]
    defaults = {
        "filter schema (Krita, GIMP, --param)": strength.default,
        "CLI --strength": inspect.signature(stylize_command).parameters["strength"].default,
        "StyleSettings (every Python entry point)": StyleSettings().strength,
    }
    assert defaults == dict.fromkeys(defaults, DEFAULT_STRENGTH)
    assert DEFAULT_STRENGTH == 0.8
    # the Python entry points take their settings, defaults included, from StyleSettings alone
    entries = (
        stylize,
        Stylizer.stylize,
        Stylizer.stylize_source,
        Stylizer.stylize_array,
        stylize_job,
        stylize_dataset,
        PortableJob,
    )
    for entry in entries:
        parameters = inspect.signature(entry).parameters
        assert "settings" in parameters, entry
        assert not set(StyleSettings.names()) & set(parameters), entry


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


def test_the_preview_shows_the_strokes_of_the_full_size_result(installed, tmp_path):
    """A 2400 px image runs at 1024 px at scale 1: its preview is that result shrunk, not
    the filter run on a 256 px copy (strokes four times larger)."""
    photo = Image.open(make_photo(tmp_path / "big.png", 2400, 1600))
    stylize = StylizeFilter(device="cpu")
    preview = stylize.preview(photo, {"style": "the_scream"}, max_side=256)
    full = stylize.apply(photo, {"style": "the_scream"})
    full.thumbnail((256, 256), Image.Resampling.LANCZOS)
    assert preview.size == full.size == (256, 171)
    diff = np.abs(np.asarray(preview, np.int16) - np.asarray(full, np.int16))
    assert diff.mean() < 3, diff.mean()
    small = stylize.preview(photo, {"style": "the_scream", "scale": 0}, max_side=256)
    other = np.abs(np.asarray(small, np.int16) - np.asarray(full, np.int16)).mean()
    assert other > 2 * diff.mean()
