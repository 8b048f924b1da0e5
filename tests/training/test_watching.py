"""style_plugin/training/watching.py: the time a run has left, the speed kept from the last
new style trained here, and the one line said before a training starts."""

from __future__ import annotations

import json
import math

import pytest

from style_plugin.training.watching import (
    MeasuredSpeed,
    RemainingTime,
    expected_time,
    last_speed,
    live_preview_path,
    record_speed,
    speed_file,
    time_left_text,
)
from style_plugin.user_dirs import user_runs_dir


def test_nothing_is_estimated_before_a_step_has_been_timed():
    remaining = RemainingTime()
    assert remaining.update(0, 100, now=50.0) is None
    assert remaining.pace is None


def test_the_first_step_estimates_and_the_second_replaces_its_warm_up():
    remaining = RemainingTime()
    remaining.update(0, 100, now=0.0)
    assert remaining.update(1, 100, now=10.0) == pytest.approx(10.0 * 99)  # warm-up included
    assert remaining.update(2, 100, now=12.0) == pytest.approx(2.0 * 98)  # warm-up gone


def test_the_pace_follows_recent_steps_not_the_whole_mean():
    remaining = RemainingTime()
    remaining.update(10, 200, now=0.0)  # a run resumed at step 10
    now = 0.0
    for step in range(11, 61):  # 2 s a step ...
        now += 2.0
        remaining.update(step, 200, now)
    assert remaining.pace == pytest.approx(2.0)
    for step in range(61, 81):  # ... then 1 s a step (the machine got free)
        now += 1.0
        left = remaining.update(step, 200, now)
    # the whole mean (90 s / 70 steps) would say 154 s; the recent pace is about 1 s a step
    assert remaining.pace == pytest.approx(1.0, abs=0.02)
    assert left == pytest.approx(120.0, abs=3.0)
    assert remaining.update(200, 200, now + 1.0) == 0.0


def test_steps_reported_together_share_the_time_between_them():
    remaining = RemainingTime()
    remaining.update(0, 50, now=0.0)
    remaining.update(1, 50, now=3.0)
    assert remaining.update(11, 50, now=23.0) == pytest.approx(2.0 * 39)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "less than a minute left"),
        (29, "less than a minute left"),
        (31, "about 1 minute left"),
        (12.4 * 60, "about 12 minutes left"),
        (89 * 60, "about 89 minutes left"),
        (100 * 60, "about 2 hours left"),
    ],
)
def test_time_left_is_said_without_made_up_precision(seconds, text):
    assert time_left_text(seconds) == text


def test_the_speed_is_kept_in_the_user_data_folder(user_models_dir):
    assert last_speed() is None
    speed = MeasuredSpeed(steps_per_s=0.5, device="cpu", crop_size=256, batch_size=4)
    record_speed(speed)
    assert speed_file().parent == user_models_dir.parent
    assert json.loads(speed_file().read_text()) == {
        "steps_per_s": 0.5,
        "device": "cpu",
        "crop_size": 256,
        "batch_size": 4,
    }
    assert last_speed() == speed
    assert not list(speed_file().parent.glob(".style-plugin-*"))  # written whole, no leftovers


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[1, 2]",
        '{"steps_per_s": "fast", "device": "cpu", "crop_size": 256, "batch_size": 4}',
        '{"steps_per_s": 0, "device": "cpu", "crop_size": 256, "batch_size": 4}',
        '{"steps_per_s": NaN, "device": "cpu", "crop_size": 256, "batch_size": 4}',
        '{"device": "cpu"}',
    ],
)
def test_a_damaged_speed_file_counts_as_nothing_measured(content):
    speed_file().parent.mkdir(parents=True, exist_ok=True)
    speed_file().write_text(content)
    assert last_speed() is None
    assert "typical 2-core laptop CPU" in expected_time(600, 256, 4)


def test_before_anything_is_measured_the_typical_laptop_is_said():
    line = expected_time(600, 256, 4)
    assert line == (
        "600 steps take 12 to 30 minutes on a typical 2-core laptop CPU (less on a GPU); "
        "an estimate for this machine appears after the first steps."
    )
    assert "\n" not in line


def test_the_last_speed_measured_here_is_said_for_steps_like_its_own():
    record_speed(MeasuredSpeed(steps_per_s=0.8, device="cpu", crop_size=256, batch_size=4))
    assert expected_time(600, 256, 4) == (
        "600 steps take about 12 minutes here (measured in the last training on this "
        "machine, on cpu)."
    )
    assert math.isclose(600 / 0.8 / 60, 12.5)  # 12.5 rounds to 12: whole minutes only
    assert "1 minute here" in expected_time(10, 256, 4)
    # a speed measured on other steps (a test's tiny crops) says nothing about these
    record_speed(MeasuredSpeed(steps_per_s=40.0, device="cpu", crop_size=32, batch_size=2))
    assert "typical 2-core laptop CPU" in expected_time(600, 256, 4)


def test_the_live_preview_is_beside_the_run():
    assert live_preview_path("mine") == user_runs_dir() / "mine-preview.png"
