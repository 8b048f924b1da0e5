"""What `add-style` says before and while the user waits: how long a new style takes on this
machine (its help), the time left at each step, and the live preview (--preview)."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest
from PIL import Image

from style_plugin.cli.progress import ProgressDisplay, TrainingProgress
from style_plugin.errors import DataError
from style_plugin.training.config import NEW_STYLE_STEPS, TrainConfig
from style_plugin.training.watching import (
    MEASURED_STEPS,
    MeasuredSpeed,
    last_speed,
    live_preview_path,
    record_speed,
)
from style_plugin.workflows.new_style import add_style
from tests.support import TINY_TRAIN_SETTINGS, quiet_run, run_cli, sample_photo


def test_the_training_bar_shows_the_time_left_from_the_recent_steps(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    clock = iter([100.0, 130.0, 132.0])  # the first step's 30 s is warm-up
    monkeypatch.setattr("style_plugin.cli.progress.time.perf_counter", lambda: next(clock))
    with ProgressDisplay(quiet=False, description="training") as display:
        progress = TrainingProgress(display)
        progress.on_progress(0, 600, None)
        (task,) = display.bar.tasks
        column = display.bar.columns[5]
        assert str(column.render(task)) == "-:--:--"  # nothing timed yet: rich's own
        progress.on_progress(1, 600, None)
        assert str(column.render(task)) == "4:59:30"  # 599 steps at 30 s
        progress.on_progress(2, 600, None)
        assert task.fields["left_s"] == pytest.approx(2.0 * 598)
        assert str(column.render(task)) == "0:19:56"


def help_text(capsys) -> str:
    code, out, _ = run_cli(capsys, "add-style", "--help")
    assert code == 0
    return " ".join(out.replace("│", " ").split())


def test_the_help_says_what_to_expect_before_anything_was_measured(capsys):
    said = help_text(capsys)
    assert (
        f"{NEW_STYLE_STEPS} steps take 12 to 30 minutes on a typical 2-core laptop CPU (less "
        "on a GPU); an estimate for this machine appears after the first steps." in said
    )
    assert "--preview" in said and "PHOTO" in said


def test_the_help_says_the_time_measured_in_the_last_training_here(capsys):
    crop, batch = TrainConfig.crop_size, TrainConfig.batch_size
    record_speed(MeasuredSpeed(steps_per_s=1.0, device="cpu", crop_size=crop, batch_size=batch))
    said = help_text(capsys)
    assert (
        f"{NEW_STYLE_STEPS} steps take about {NEW_STYLE_STEPS // 60} minutes here (measured in "
        "the last training on this machine, on cpu)." in said
    )
    assert "typical 2-core laptop" not in said


@pytest.mark.train
def test_json_steps_carry_the_time_left_and_the_preview_is_drawn_and_named(
    paintings, user_models_dir, capsys, tmp_path
):
    """What an editor's plug-in reads: each step with a finite `eta_s`, and a preview event
    naming the PNG of the photo in the style being learnt (here at the last step)."""
    photo = tmp_path / "photo.jpg"
    sample_photo(900, 600).save(photo)  # 3:2, larger than a preview
    args = ["add-style", f"mine={paintings['stripes']}", "--steps", "2", "--device", "cpu"]
    code, out, err = run_cli(capsys, *args, "--preview", photo, "--json-progress")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    steps = [e for e in events if e["event"] == "step"]
    assert [(e["step"], e["total"]) for e in steps] == [(1, 2), (2, 2)]
    assert all(isinstance(e["eta_s"], float) and math.isfinite(e["eta_s"]) for e in steps)
    assert steps[0]["eta_s"] > 0 and steps[-1]["eta_s"] == 0
    previews = [e for e in events if e["event"] == "preview"]
    preview = live_preview_path("mine")
    assert previews == [{"event": "preview", "step": 2, "path": str(preview)}]
    assert events.index(previews[0]) < events.index(events[-1])  # before the result
    assert events[-1]["event"] == "added"
    with Image.open(preview) as drawn:
        assert drawn.format == "PNG" and drawn.mode == "RGB"
        assert drawn.size == (512, 341)  # the photo's aspect, its long side 512
        pixels = np.asarray(drawn)
    assert pixels.std() > 5  # a picture, not a blank
    assert not [p for p in preview.parent.iterdir() if ".part" in p.name]


@pytest.mark.train
def test_without_a_terminal_the_lines_say_the_time_left(paintings, capsys, tmp_path):
    photo = tmp_path / "photo.png"
    sample_photo(64, 96).save(photo)
    args = ["add-style", f"mine={paintings['stripes']}", "--steps", "1", "--device", "cpu"]
    code, _, err = run_cli(capsys, *args, "--preview", photo)
    assert code == 0, err
    assert "step 1/1  content " in err and "less than a minute left" in err, err
    assert f"step 1: preview drawn in {live_preview_path('mine')}" in err
    with Image.open(live_preview_path("mine")) as drawn:
        assert drawn.size == (64, 96)  # small photos stay their own size


@pytest.mark.train
def test_an_unreadable_preview_photo_is_refused_before_training(paintings, capsys, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"not an image")
    args = ["add-style", f"mine={paintings['stripes']}", "--steps", "1", "--device", "cpu"]
    code, out, err = run_cli(capsys, *args, "--preview", photo, "--json-progress")
    assert code != 0
    assert err.startswith("error: cannot read the photo ") and err.count("\n") == 1, err
    assert "photo.png" in err and '"step"' not in out
    assert not live_preview_path("mine").exists()


@pytest.mark.train
def test_a_new_style_keeps_its_speed_for_the_next_estimate(photos, paintings, tmp_path):
    assert last_speed() is None
    photo = tmp_path / "photo.png"
    sample_photo(48, 32).save(photo)
    seen: list[tuple[int, str]] = []
    options = quiet_run(on_live_preview=lambda step, path: seen.append((step, path.name)))
    added = add_style(
        "mine",
        paintings["checks"],
        photos=photos,
        steps=MEASURED_STEPS + 1,
        options=options,
        settings=TINY_TRAIN_SETTINGS,
        preview=photo,
    )
    summary = added.summary
    assert summary.timed_steps == MEASURED_STEPS and summary.steps_per_second > 0
    speed = last_speed()
    assert speed == MeasuredSpeed(
        summary.steps_per_second,
        "cpu",
        TINY_TRAIN_SETTINGS["crop_size"],
        TINY_TRAIN_SETTINGS["batch_size"],
    )
    assert seen == [(MEASURED_STEPS + 1, "mine-preview.png")]


@pytest.mark.train
def test_too_few_steps_to_tell_keep_no_speed(photos, paintings):
    add_style(
        "mine",
        paintings["checks"],
        photos=photos,
        steps=2,
        options=quiet_run(),
        settings=TINY_TRAIN_SETTINGS,
    )
    assert last_speed() is None


@pytest.mark.train
def test_a_preview_photo_too_small_for_the_model_is_one_line(photos, paintings, tmp_path):
    photo = tmp_path / "sliver.png"
    Image.new("RGB", (300, 3), "red").save(photo)
    with pytest.raises(DataError, match=r"is 300x3; it needs at least \d+ pixels a side"):
        add_style(
            "mine",
            paintings["checks"],
            photos=photos,
            steps=1,
            options=quiet_run(),
            settings=TINY_TRAIN_SETTINGS,
            preview=photo,
        )
