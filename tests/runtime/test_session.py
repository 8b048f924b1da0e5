"""onnxruntime sessions (style_plugin/runtime/session.py): cached per file, and cut short
after one output (style_plugin/runtime/truncate.py)."""

from __future__ import annotations

import shutil

import numpy as np
import onnx
import pytest

from style_plugin.runtime.session import open_session
from style_plugin.runtime.truncate import truncated_model


def test_sessions_are_cached_and_reloaded_when_the_file_changes(style_model, tmp_path):
    copy = tmp_path / "copy.onnx"
    shutil.copy(style_model, copy)
    first = open_session(copy)
    assert open_session(copy) is first
    shutil.copy(style_model, copy)  # same bytes, new modification time
    assert open_session(copy) is not first


def test_a_truncated_model_runs_only_what_one_output_needs(style_model):
    full = onnx.load(str(style_model))
    cut = onnx.load_from_string(truncated_model(style_model, "layer_norm_stats_1"))
    assert [o.name for o in cut.graph.output] == ["layer_norm_stats_1"]
    assert len(cut.graph.node) < len(full.graph.node) / 4
    batch = np.random.default_rng(0).random((1, 3, 40, 56), dtype=np.float32)
    feeds = {"image": batch, "style_weights": np.array([[0.3, 0.7]], np.float32)}
    (reference,) = open_session(style_model).run(["layer_norm_stats_1"], feeds)
    cut_session = open_session(style_model, until="layer_norm_stats_1")
    np.testing.assert_allclose(cut_session.run(["layer_norm_stats_1"], feeds)[0], reference)
    with pytest.raises(ValueError, match="no output 'nothing'"):
        truncated_model(style_model, "nothing")
