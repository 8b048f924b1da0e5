"""The style-model contract (style_plugin/contract.py): the metadata an exporter writes and the
runtime reads, as key-value strings and back, and on a real exported file."""

from __future__ import annotations

import dataclasses
import json

import onnx
import pytest

from style_plugin.contract import (
    DEFAULT_MIN_SIDE,
    FORMAT_VERSION,
    METADATA_PREFIX,
    TILING_SCHEME,
    ModelMetadata,
)
from style_plugin.runtime.model import load_model

FIELDS = [item.name for item in dataclasses.fields(ModelMetadata)]

FULL = ModelMetadata(
    styles=[{"name": "starry-night", "label": "Starry Night"}, {"name": "b", "label": "B"}],
    preset="fast",
    min_side=7,
    precision="fp16",
    training={"steps": 40, "losses": {"content": 0.5}, "styles": {"b": "art/b.jpg"}},
    package_version="0.1.0",
    tiling=TILING_SCHEME,
    format_version=FORMAT_VERSION,
)


def test_every_field_is_written_as_a_string_and_read_back_unchanged():
    properties = FULL.to_properties()
    assert sorted(properties) == sorted(METADATA_PREFIX + name for name in FIELDS)
    assert all(isinstance(value, str) for value in properties.values())
    assert json.loads(properties["style_plugin.styles"]) == FULL.styles
    assert json.loads(properties["style_plugin.training"]) == FULL.training
    assert properties["style_plugin.min_side"] == "7"
    assert properties["style_plugin.format_version"] == str(FORMAT_VERSION)
    assert ModelMetadata.from_properties(properties) == FULL


def test_fields_left_none_are_not_written_and_read_back_as_defaults():
    sparse = ModelMetadata(preset="johnson")
    assert sparse.to_properties() == {
        "style_plugin.preset": "johnson",
        "style_plugin.min_side": str(DEFAULT_MIN_SIDE),
        "style_plugin.training": "{}",
    }
    assert ModelMetadata.from_properties(sparse.to_properties()) == sparse
    assert ModelMetadata.from_properties({}) == ModelMetadata()
    other = {"producer": "someone else", "style_plugin.unknown": "ignored"}
    assert ModelMetadata.from_properties(other) == ModelMetadata()


def test_unreadable_values_fall_back_to_their_defaults():
    unreadable = {
        "style_plugin.min_side": "five",
        "style_plugin.format_version": "1.5",
        "style_plugin.training": "[1, 2]",  # JSON, but not an object
        "style_plugin.preset": "fast",
    }
    read = ModelMetadata.from_properties(unreadable)
    assert read == ModelMetadata(preset="fast")
    assert (read.min_side, read.format_version, read.training) == (DEFAULT_MIN_SIDE, None, {})
    assert ModelMetadata.from_properties({"style_plugin.training": "{not json"}).training == {}


def test_a_style_without_a_label_is_labelled_with_its_name():
    styles = json.dumps([{"name": "a"}, {"name": "b", "label": ""}, {"name": 3, "label": "C"}])
    read = ModelMetadata.from_properties({"style_plugin.styles": styles})
    assert read.styles == [
        {"name": "a", "label": "a"},
        {"name": "b", "label": "b"},
        {"name": "3", "label": "C"},
    ]


@pytest.mark.parametrize(
    "styles",
    ["not json", '{"name": "a"}', '"a"', '[{"label": "no name"}]', '["a", "b"]', "[null]"],
)
def test_a_malformed_style_list_is_an_error_not_a_default(styles):
    with pytest.raises(ValueError, match=r"^metadata 'style_plugin\.styles' is malformed$"):
        ModelMetadata.from_properties({"style_plugin.styles": styles})


def test_every_key_the_exporter_writes_is_read_back_by_load_model(style_model):
    written = {
        p.key: p.value
        for p in onnx.load(str(style_model)).metadata_props
        if p.key.startswith(METADATA_PREFIX)
    }
    # the exporter writes every field of the contract, and nothing the contract lacks
    assert sorted(written) == sorted(METADATA_PREFIX + name for name in FIELDS)
    meta = ModelMetadata.from_properties(written)
    model = load_model(style_model, device="cpu")
    assert [{"name": s.name, "label": s.label} for s in model.styles] == meta.styles
    assert model.style_names == ["starry-night", "the_scream"]
    assert model.preset == meta.preset == "fast"
    assert model.min_side == meta.min_side == int(written["style_plugin.min_side"])
    assert model.precision == meta.precision == "fp32"
    assert model.training == meta.training == json.loads(written["style_plugin.training"])
    assert model.package_version == meta.package_version == written["style_plugin.package_version"]
    assert model.format_version == meta.format_version == FORMAT_VERSION
    assert meta.tiling == TILING_SCHEME and model.tiling is True
    assert model.metadata["styles"] == meta.styles
