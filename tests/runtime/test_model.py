"""Loading a style model (style_plugin/runtime/model.py): its metadata, the contract's
one-line errors for files that break it, and style mixes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import style_plugin
from style_plugin.errors import ModelError
from style_plugin.runtime.model import load_model, parse_style_mix


def test_load_model_reads_the_metadata(style_model):
    model = load_model(style_model, device="cpu")
    assert model.style_names == ["starry-night", "the_scream"]
    assert [s.label for s in model.styles] == ["Starry Night", "The Scream"]
    assert (model.preset, model.precision, model.min_side) == ("fast", "fp32", 5)
    assert model.tiling and model.format_version == 1
    assert model.training["steps"] == 40 and model.training["seed"] == 3
    meta = model.metadata
    assert meta["provider"] == "cpu" and meta["seamless_tiling"] is True
    assert style_plugin.load_model(style_model).path == style_model  # the public name


def _contract_breaker(path: Path) -> Path:
    """A valid ONNX model that is not a style model: y = Identity(x)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    return path


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p, "does not exist"),
        (lambda p: (p.write_bytes(b""), p)[1], "is empty (0 bytes)"),
        (lambda p: (p.write_text("not a model"), p)[1], "is not an ONNX model"),
        (lambda p: (p.mkdir(), p)[1], "is a folder"),
        (_contract_breaker, "lacks input 'image', input 'style_weights', output 'stylized'"),
    ],
)
def test_bad_model_files_are_one_line_errors(tmp_path, make, needle):
    path = make(tmp_path / "model.onnx")
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert "onnxruntime_src" not in str(info.value)


def test_unsupported_onnx_versions_are_explained(tmp_path):
    path = _contract_breaker(tmp_path / "new.onnx")
    model = onnx.load(path)
    model.ir_version = 99
    onnx.save(model, path)
    with pytest.raises(ModelError, match=r"not an ONNX model .*\(.*IR version"):
        load_model(path)


def test_style_mixes(style_model):
    model = load_model(style_model)
    assert model.style_weights(None).tolist() == [1.0, 0.0]
    assert model.style_weights("the_scream").tolist() == [0.0, 1.0]
    np.testing.assert_allclose(model.style_weights("starry-night=3,the_scream=1"), [0.75, 0.25])
    np.testing.assert_allclose(model.style_weights({"the_scream": 2.0}), [0.0, 1.0])
    assert parse_style_mix(" a = 0.5 , b=0.5") == {"a": 0.5, "b": 0.5}
    with pytest.raises(ModelError, match=r"unknown style 'mosaic'.*starry-night, the_scream"):
        model.style_weights("mosaic")
    for bad in ("a=-1", "a=x", "a=0", "=1", "a,,b"):
        with pytest.raises(ModelError):
            parse_style_mix(bad)
