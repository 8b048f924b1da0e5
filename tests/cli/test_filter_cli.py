"""`style-plugin filters` and `filter` (style_plugin/cli/filter_commands.py) in this process,
with the built-in Stylize filter; plugins' filters through the CLI are test_plugins.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.support import assert_one_line_error, make_photo, run_cli


def test_filters_lists_the_stylize_filter(installed, capsys):
    code, out, _ = run_cli(capsys, "filters", "--json")
    assert code == 0
    document = json.loads(out)
    (stylize,) = [f for f in document["filters"] if f["name"] == "stylize"]
    assert stylize["plugin"] == "style-plugin" and stylize["label"] == "Stylize"
    names = [c["value"] for c in stylize["params"][0]["choices"]]
    assert names == ["starry-night", "the_scream"]
    code, out, _ = run_cli(capsys, "filters")
    assert code == 0
    assert "stylize - Stylize (from style-plugin)" in out
    assert "strength=FLOAT          0..1, default 0.8; " in out


def test_filter_stylize_gives_what_stylize_gives(installed, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", 56, 40)
    args = ("--param", "style=the_scream", "-p", "strength=0.7", "-p", "preserve_colors=yes")
    code, out, _ = run_cli(capsys, "filter", "stylize", photo, *args, "-q")
    assert code == 0 and out.startswith("filtered 1 image in")
    options = ("--style", "the_scream", "--strength", "0.7", "--preserve-colors", "-q")
    code, _, _ = run_cli(capsys, "stylize", photo, *options)
    assert code == 0
    filtered = np.asarray(Image.open(tmp_path / "photo-stylize.png"))
    stylized = np.asarray(Image.open(tmp_path / "photo-stylized.png"))
    assert np.array_equal(filtered, stylized)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["stylize", "--param", "colour=red"], ["no parameter 'colour'", "strength"]),
        (["stylize", "--param", "strength=lots"], ["'strength' takes a float"]),
        (["stylize", "--param", "strength=2"], ["'strength' must be between 0 and 1"]),
        (["stylize", "--param", "style=nope"], ["'style' must be one of starry-night"]),
        (["stylize", "--param", "strength"], ["--param takes KEY=VALUE"]),
        (["stylize", "-p", "strength=1", "-p", "strength=0"], ["--param strength is given twice"]),
        (["sharpen"], ["unknown filter 'sharpen'", "stylize"]),
    ],
)
def test_filter_parameter_errors_touch_no_file(installed, tmp_path, capsys, args, needles):
    photo = make_photo(tmp_path / "in" / "photo.png", 24, 24)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "filter", args[0], photo, *args[1:], "-o", f"{out}/")
    assert_one_line_error(code, err, *needles)
    assert code == 1
    assert not out.exists() and [p.name for p in photo.parent.iterdir()] == ["photo.png"]
