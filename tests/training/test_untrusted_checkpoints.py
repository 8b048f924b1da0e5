"""Checkpoints are untrusted input: a file that unpickles safely (weights_only) but holds the
wrong structure is refused by `export` and `train --resume` with one line, never a traceback."""

from __future__ import annotations

import argparse
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch

from style_plugin.models.generator import Generator
from tests.support import assert_one_line_error, make_checkpoint, run_cli, train_args


def _damaged(path: Path, change: dict[str, Any]) -> Path:
    """`path` rewritten with some top-level entries replaced (None: removed)."""
    state = torch.load(path, weights_only=True)
    for key, value in change.items():
        if value is None:
            state.pop(key)
        else:
            state[key] = value
    torch.save(state, path)
    return path


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"step": "forty"}, "step"),
        ({"step": -3}, "step"),
        ({"generator": [1, 2, 3]}, "'generator' is not a dict of tensors"),
        ({"generator": {"weight": "not a tensor"}}, "'generator' is not a dict of tensors"),
        ({"style_names": "starry"}, "style names"),
        ({"style_names": [f"s{i}" for i in range(2000)]}, "style names"),
        ({"style_labels": ["The Starry Night"]}, "style labels"),
        ({"style_labels": {"unknown": "Unknown"}}, "style labels"),
        ({"style_labels": {"starry-night": "x" * 5000}}, "style label longer than 200"),
        ({"style_names": ["\x1b[2Jstarry", "the_scream"]}, "cannot be shown: \\x1b[2Jstarry"),
        ({"style_names": ["s" * 210, "the_scream"]}, "style name longer than 200"),
        ({"style_names": ["twin", "twin"]}, "'twin' twice"),
        ({"opt_g": [0]}, "'opt_g' is not a dict"),
        ({"config": "fast"}, "configuration is not a dict"),
        ({"config": None}, "lacks the generator or the configuration"),
    ],
)
def test_export_refuses_a_malformed_checkpoint(tmp_path, capsys, change, needle):
    checkpoint = _damaged(make_checkpoint(tmp_path / "checkpoint.pt"), change)
    output = tmp_path / "model.onnx"
    code, _, err = run_cli(capsys, "export", str(checkpoint), "-o", str(output))
    assert_one_line_error(code, err, "not a usable style-plugin checkpoint", needle)
    assert not output.exists()


def test_a_style_name_that_would_command_the_terminal_never_reaches_it(tmp_path, capsys):
    """A name holding "clear screen" is refused in one escaped line and no model is written
    (the runtime would refuse that model anyway)."""
    checkpoint = make_checkpoint(tmp_path / "checkpoint.pt", styles=["\x1b[2J\x1b[H", "calm"])
    output = tmp_path / "model.onnx"
    code, out, err = run_cli(capsys, "export", str(checkpoint), "-o", str(output))
    assert_one_line_error(code, err, "cannot be shown", "\\x1b[2J")
    assert "\x1b" not in out + err and not output.exists()


@pytest.mark.parametrize("command", ["train", "add-style"])
def test_a_base_model_with_a_bad_style_name_is_one_line(
    command, photos, paintings, tmp_path, capsys
):
    """`--from` reads its checkpoint with the same checks as `export`, before any training."""
    base = make_checkpoint(tmp_path / "base.pt", styles=["\x1b]0;owned\x07", "calm"])
    painting = f"mine={paintings['stripes']}"
    if command == "train":
        args = ["train", photos, "--style", painting, "--from", base, "--out", tmp_path / "run"]
        args += ["--crop-size", "32", "--device", "cpu"]
    else:
        args = ["add-style", painting, "--from", base, "--device", "cpu"]
    code, out, err = run_cli(capsys, *args, "--steps", "1", "-q")
    assert_one_line_error(code, err, "not a usable style-plugin checkpoint", "cannot be shown")
    assert "\x1b" not in out + err and not (tmp_path / "run").exists()


@pytest.mark.parametrize("writer", ["torch.save", "pickle"])
def test_a_plain_pickle_is_one_line_without_a_raw_warning(tmp_path, capsys, writer):
    """A file pickled with another protocol than torch's own makes torch warn about it before
    refusing it; users get the refusal alone."""
    checkpoint = tmp_path / "checkpoint.pt"
    state = {"generator": argparse.Namespace(weight=1), "config": {}}
    if writer == "pickle":
        checkpoint.write_bytes(pickle.dumps(state, protocol=4))
    else:
        torch.save(state, checkpoint, pickle_protocol=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, err = run_cli(capsys, "export", str(checkpoint), "-o", str(tmp_path / "m.onnx"))
    assert_one_line_error(code, err, "cannot read checkpoint", "unsafe unpickling")
    assert [str(w.message) for w in caught] == []


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"steps": "many"}, "'steps' is not int"),
        ({"styles": ["starry"]}, "'styles' is not dict"),
        ({"lr": True}, "'lr' is not float"),
        ({"content_dir": None}, "lacks content_dir"),
    ],
)
def test_export_refuses_a_malformed_configuration(tmp_path, capsys, config, needle):
    checkpoint = make_checkpoint(tmp_path / "checkpoint.pt")
    saved = torch.load(checkpoint, weights_only=True)["config"]
    for key, value in config.items():
        if value is None:
            saved.pop(key)
        else:
            saved[key] = value
    _damaged(checkpoint, {"config": saved})
    code, _, err = run_cli(capsys, "export", str(checkpoint), "-o", str(tmp_path / "m.onnx"))
    assert_one_line_error(code, err, needle)


@pytest.fixture
def trained_run(photos, paintings, tmp_path, capsys) -> Path:
    """A real two-step run folder to resume."""
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, *train_args(photos, paintings, out, "--steps", "2"))
    assert code == 0, err
    return out


@pytest.mark.train
def test_resume_refuses_a_generator_of_another_shape(trained_run, capsys):
    other = Generator(2, "johnson").state_dict()
    _damaged(trained_run / "checkpoint.pt", {"generator": other})
    code, _, err = run_cli(capsys, "train", "--resume", "--out", str(trained_run), "--steps", "3")
    assert_one_line_error(code, err, "cannot resume from the checkpoint")


@pytest.mark.train
def test_resume_refuses_a_missing_optimiser_state(trained_run, capsys):
    _damaged(trained_run / "checkpoint.pt", {"opt_g": {"state": {}}})
    code, _, err = run_cli(capsys, "train", "--resume", "--out", str(trained_run), "--steps", "3")
    assert_one_line_error(code, err, "cannot resume from the checkpoint")
