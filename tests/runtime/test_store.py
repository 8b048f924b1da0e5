"""Where styles are found (style_plugin/runtime/store.py): the installed models, by style name."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import style_plugin
from style_plugin.errors import ModelError
from style_plugin.runtime.store import ModelEntry, find_model, list_styles, style_clashes
from tests.support import sample_photo


def test_installed_styles_are_found_by_name(style_model, user_models_dir):
    with pytest.raises(ModelError, match="no style model installed"):
        find_model("the_scream")
    user_models_dir.mkdir()
    shutil.copy(style_model, user_models_dir / "two.onnx")
    (user_models_dir / "broken.onnx").write_text("nope")
    assert find_model("the_scream").path == user_models_dir / "two.onnx"
    with pytest.raises(ModelError, match="known styles: starry-night, the_scream"):
        find_model("mosaic")
    listing = list_styles()
    assert [entry.path.name for entry, _ in listing.models] == ["two.onnx"]
    assert [entry.path.name for entry, _ in listing.broken] == ["broken.onnx"]
    out = style_plugin.stylize(np.asarray(sample_photo()), style="the_scream")
    assert out.size == (96, 64)


@pytest.fixture(scope="module")
def scream_and_mosaic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second model that shares 'the_scream' with `style_model` and adds 'mosaic'."""
    from style_plugin.exporters.onnx import export_onnx
    from tests.support import make_checkpoint

    folder = tmp_path_factory.mktemp("second-model")
    checkpoint = make_checkpoint(folder / "checkpoint.pt", ["the_scream", "mosaic"], seed=1)
    return export_onnx(checkpoint, folder / "scream-mosaic.onnx").output


@pytest.fixture
def two_packs(style_model: Path, scream_and_mosaic: Path) -> list[ModelEntry]:
    return [ModelEntry(style_model, "pack-a"), ModelEntry(scream_and_mosaic, "pack-b")]


def test_a_mix_error_names_the_unknown_style(two_packs):
    with pytest.raises(ModelError, match="unknown style 'nope'; known styles: starry-night"):
        find_model("starry-night=0.5,nope=0.5", extra=two_packs)


def test_a_mix_across_models_says_so_and_where_each_style_is(two_packs):
    with pytest.raises(ModelError, match="a mix must come from one model") as error:
        find_model("starry-night=0.5,mosaic=0.5", extra=two_packs)
    assert "starry-night in two-styles.onnx; mosaic in scream-mosaic.onnx" in str(error.value)


def test_a_source_picks_among_styles_of_the_same_name(two_packs):
    assert find_model("the_scream", extra=two_packs).path == two_packs[0].path
    picked = find_model("pack-b:the_scream", extra=two_packs)
    assert picked.path == two_packs[1].path
    assert picked.style_weights("pack-b:the_scream").tolist() == [1.0, 0.0]
    assert find_model("pack-b:the_scream=0.5,mosaic=0.5", extra=two_packs).path == picked.path
    with pytest.raises(ModelError, match="unknown style 'pack-c:the_scream'"):
        find_model("pack-c:the_scream", extra=two_packs)
    assert style_clashes(list_styles(extra=two_packs)) == {"the_scream": ["pack-a", "pack-b"]}
