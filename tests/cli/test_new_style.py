"""style_plugin/workflows/new_style.py and `add-style`: a painting becomes an installed style."""

from __future__ import annotations

import json

import numpy as np
import pytest

from style_plugin.errors import StylePluginError, TrainingError
from style_plugin.runtime.session import SessionSettings
from style_plugin.runtime.store import list_styles
from style_plugin.runtime.stylizer import Stylizer
from style_plugin.training.checkpoint import load_checkpoint
from style_plugin.training.config import NEW_STYLE_STYLE_WEIGHT
from style_plugin.training.metrics import read_metrics
from style_plugin.user_dirs import user_runs_dir
from style_plugin.workflows.new_style import add_style
from tests.support import (
    TINY_TRAIN_SETTINGS,
    assert_one_line_error,
    quiet_run,
    run_cli,
    sample_photo,
)

pytestmark = pytest.mark.train  # add-style trains for real

QUIET = quiet_run()


def test_a_new_style_is_installed_alone_and_found_everywhere(photos, paintings, user_models_dir):
    added = add_style(
        "mine",
        paintings["checks"],
        label="My checks",
        photos=photos,
        steps=2,
        options=QUIET,
        settings=TINY_TRAIN_SETTINGS,
    )
    assert added.model == user_models_dir / "mine.onnx" and added.summary.step == 2
    listing = list_styles(SessionSettings(device="cpu"))
    ((entry, model),) = listing.models  # the bundled model is hidden in tests
    assert (entry.source, model.style_names) == ("user", ["mine"])
    assert model.styles[0].label == "My checks"
    assert model.metadata["training"]["base"] == "bundled"
    assert load_checkpoint(added.run_dir)["config"]["style_weight"] == NEW_STYLE_STYLE_WEIGHT
    photo = np.asarray(sample_photo())
    out = np.asarray(Stylizer().stylize(photo, style="mine"))
    assert out.shape == photo.shape and np.abs(out.astype(int) - photo).mean() > 5


def test_the_same_call_goes_on_and_another_painting_is_refused(photos, paintings):
    first = add_style(
        "mine",
        paintings["checks"],
        photos=photos,
        steps=1,
        options=QUIET,
        settings={**TINY_TRAIN_SETTINGS, "style_weight": 0.25},
    )
    assert load_checkpoint(first.run_dir)["config"]["style_weight"] == 0.25
    with pytest.raises(TrainingError, match="already exists; choose another name"):
        add_style("mine", paintings["checks"], photos=photos, steps=2, options=QUIET)
    notes: list[str] = []
    again = add_style(
        "mine",
        paintings["checks"],
        photos=photos,
        steps=2,
        options=quiet_run(on_note=notes.append),
        overwrite=True,
    )
    assert [r["step"] for r in read_metrics(again.run_dir / "metrics.jsonl")] == [1, 2]
    assert f"resuming {again.run_dir} from step 1 of 2" in notes
    with pytest.raises(TrainingError, match="from another painting"):
        add_style("mine", paintings["stripes"], photos=photos, options=QUIET, overwrite=True)


def test_the_cli_adds_a_style_from_the_sample_photos(paintings, user_models_dir, capsys):
    code, out, err = run_cli(
        capsys,
        "add-style",
        f"mine={paintings['stripes']}",
        "--steps",
        "1",
        "--device",
        "cpu",
        "-q",
    )
    assert code == 0, err
    assert "added style 'mine'" in out and (user_models_dir / "mine.onnx").is_file()
    code, out, _ = run_cli(capsys, "models", "--json")
    (listed,) = json.loads(out)["styles"]
    assert (listed["name"], listed["painting"], listed["source"]) == ("mine", "stripes.png", "user")
    assert (user_runs_dir() / "mine" / "checkpoint.pt").is_file()


def test_json_progress_reports_each_step_then_the_model(paintings, user_models_dir, capsys):
    """What an editor's plug-in reads from the process it starts (hooks/hosts/new_style.py)."""
    code, out, err = run_cli(
        capsys, "add-style", f"mine={paintings['stripes']}", "--steps", "2", "--json-progress"
    )
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    for event in events:
        event.pop("eta_s", None)  # the seconds left: tests/cli/test_add_style_progress.py
    assert events == [
        {"event": "step", "step": 1, "total": 2},
        {"event": "step", "step": 2, "total": 2},
        {"event": "added", "style": "mine", "model": str(user_models_dir / "mine.onnx")},
    ]


@pytest.mark.parametrize(
    ("name", "label", "needle"),
    [
        ("n" * 10_000, None, "style name longer than 200 characters"),
        ("n" * 210, None, "style name longer than 200 characters"),
        ("mine", "L" * 300, "style label longer than 200 characters"),
    ],
)
def test_names_and_labels_no_model_can_hold_are_refused_before_training(
    paintings, user_models_dir, capsys, name, label, needle
):
    args = ["add-style", f"{name}={paintings['stripes']}", "--steps", "1", "--device", "cpu"]
    code, _, err = run_cli(capsys, *args, *(["--label", label] if label else []), "-q")
    assert_one_line_error(code, err, needle)
    assert not user_runs_dir().exists() and not user_models_dir.exists()


def test_training_commands_say_how_to_get_pytorch(monkeypatch, paintings, capsys, tmp_path):
    """A runtime-only install (what the editors' plug-ins use) has no torch: one line, not a
    traceback."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    for args in (
        ["add-style", f"mine={paintings['stripes']}"],
        ["train", str(tmp_path), "--style", f"s={paintings['stripes']}", "--out", tmp_path / "r"],
        ["export", tmp_path, "-o", tmp_path / "m.onnx"],
    ):
        code, _, err = run_cli(capsys, *args)
        assert_one_line_error(code, err, "pip install 'style-plugin[train]'")


def test_add_style_tunes_the_trunk_by_default_everywhere():
    import inspect

    from style_plugin.cli.add_style import add_style as command
    from style_plugin.training.config import NEW_STYLE_TRUNK

    assert NEW_STYLE_TRUNK == "tuned"
    assert inspect.signature(add_style).parameters["trunk"].default == NEW_STYLE_TRUNK
    assert inspect.signature(command).parameters["trunk"].default == NEW_STYLE_TRUNK


@pytest.mark.bundled
def test_a_style_added_on_the_frozen_trunk_mixes_with_the_bundled_ones(photos, paintings):
    added = add_style(
        "mine",
        paintings["checks"],
        trunk="frozen",
        photos=photos,
        steps=1,
        options=QUIET,
        settings=TINY_TRAIN_SETTINGS,
    )
    stylizer = Stylizer(device="cpu")
    bundled = stylizer.model_for("starry-night")
    assert stylizer.model_for("mine=0.5,starry-night=0.5").path == added.model
    assert bundled.path != added.model  # the bundled model still answers to its own names
    photo = np.asarray(sample_photo())
    theirs = np.asarray(stylizer.stylize(photo, style="bundled:starry-night")).astype(int)
    ours = np.asarray(Stylizer(model=added.model).stylize(photo, style="starry-night"))
    assert np.abs(ours.astype(int) - theirs).max() <= 1  # the same trunk, the same rows
    mixed = np.asarray(stylizer.stylize(photo, style="mine=0.5,starry-night=0.5")).astype(int)
    assert np.abs(mixed - theirs).mean() > 1


@pytest.mark.bundled
def test_a_style_added_with_its_own_trunk_says_why_it_does_not_mix(photos, paintings):
    add_style(
        "mine",
        paintings["checks"],
        photos=photos,
        steps=1,
        options=QUIET,
        settings=TINY_TRAIN_SETTINGS,
    )
    with pytest.raises(StylePluginError, match="--trunk frozen mixes with"):
        Stylizer(device="cpu").model_for("mine=0.5,starry-night=0.5")
