"""hooks/hosts/new_style.py: what an editor asks for a new style, the process it starts, and
how it reads what that process reports (the Krita dialog around it:
tests/hosts/krita/test_real_krita.py)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from style_plugin.errors import StylePluginError
from style_plugin.hooks.hosts.new_style import (
    ABOUT,
    NewStyleRequest,
    Progress,
    add_style_command,
    checked_name,
    child_environment,
    failure_message,
    intro,
    progress_text,
    read_event,
    request_with_open_image,
    snapshot_painting_path,
    style_name,
)
from style_plugin.training.watching import MeasuredSpeed, live_preview_path, record_speed
from style_plugin.user_dirs import user_runs_dir


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Sunflowers (1888)", "sunflowers-1888"),
        ("  My   painting ", "my-painting"),
        ("Test <b>Stripes</b>", "test-b-stripes-b"),
        ("../../etc/passwd", "etc-passwd"),
        ("Étude à l'eau", "etude-a-l-eau"),
        ("神奈川沖浪裏", "style-" + hashlib.sha256("神奈川沖浪裏".encode()).hexdigest()[:8]),
        ("x" * 100, "x" * 64),
    ],
)
def test_names_are_file_safe(label: str, name: str):
    assert style_name(label) == name
    assert "/" not in name and not name.startswith(".")


def test_requests_are_checked_with_a_reason_to_show(tmp_path: Path):
    painting = tmp_path / "art.png"
    painting.write_bytes(b"not read here")
    request = NewStyleRequest.checked(" My Art ", painting, 50, taken=["starry-night"])
    assert request == NewStyleRequest("my-art", "My Art", painting.resolve(), 50)
    for label, file, taken, reason in [
        ("", painting, [], "Give the new style a name."),
        ("   ", painting, [], "Give the new style a name."),
        ("Starry night", painting, ["starry-night"], "installed already"),
        ("Mine", "", [], "Choose the painting"),
        ("Mine", tmp_path / "missing.png", [], "No image file"),
        ("x" * 201, painting, [], "longer than 200"),
    ]:
        with pytest.raises(StylePluginError, match=reason):
            NewStyleRequest.checked(label, file, taken=taken)
    with pytest.raises(StylePluginError, match="at least one step"):
        NewStyleRequest.checked("Mine", painting, 0)
    assert checked_name("Mine", ["other"]) == "mine"


def test_the_command_line_and_its_environment(tmp_path: Path):
    request = NewStyleRequest("my-art", "My Art", tmp_path / "a=b.png", 40)
    command = [sys.executable, "-m", "style_plugin"]
    assert add_style_command(command, request) == [
        *command,
        "add-style",
        f"my-art={tmp_path / 'a=b.png'}",  # split at the first '=': the name has none
        "--label",
        "My Art",
        "--steps",
        "40",
        "--json-progress",
    ]
    editor = {"PATH": "/usr/bin", "PYTHONHOME": "/opt/krita/usr", "PYTHONPATH": "/x", "HOME": "/h"}
    assert child_environment(editor) == {"PATH": "/usr/bin", "HOME": "/h"}
    assert snapshot_painting_path("my-art") == user_runs_dir() / "my-art-painting.png"


def test_progress_is_read_from_json_lines_and_other_lines_are_ignored():
    progress = Progress()
    for line in [
        "warning: something on stdout",
        "[1, 2]",
        '{"event": "step", "step": "3", "total": 10}',  # not numbers
        '{"event": "step", "step": 3, "total": 10}',
    ]:
        progress = read_event(line, progress)
    assert progress == Progress(3, 10)
    added = read_event('{"event": "added", "style": "a", "model": "/m/a.onnx"}', progress)
    assert added == Progress(10, 10, "/m/a.onnx")
    stopped = read_event('{"event": "interrupted", "step": 3, "run": "/r"}', progress)
    assert stopped.interrupted and stopped.model is None


def test_a_failure_is_one_line_from_what_the_process_said():
    stderr = "loading...\nerror: cannot read style image /p.png: truncated\n"
    assert failure_message(stderr, 1) == "cannot read style image /p.png: truncated"
    assert failure_message("Traceback...\nModuleNotFoundError: x\n", 1) == (
        "ModuleNotFoundError: x"
    )
    assert failure_message("", 9) == "the training process ended with status 9"
    assert failure_message("error: \x1b[2Jbad\n", 1) == "\\x1b[2Jbad"


def test_the_preview_photo_goes_on_the_command_line(tmp_path: Path):
    request = NewStyleRequest("my-art", "My Art", tmp_path / "art.png", 40, tmp_path / "o.png")
    line = add_style_command(["style-plugin"], request)
    assert line[-3:] == ["--preview", str(tmp_path / "o.png"), "--json-progress"]
    assert request.preview_file == live_preview_path("my-art")
    assert NewStyleRequest("my-art", "My Art", tmp_path / "art.png").preview_file is None


def test_the_open_image_is_saved_once_the_values_are_good(tmp_path: Path):
    painting = tmp_path / "art.png"
    painting.write_bytes(b"not read here")
    saved: list[str] = []

    def save(name: str) -> Path:
        saved.append(name)
        path = tmp_path / f"{name}-open.png"
        path.write_bytes(b"the open image")
        return path

    with pytest.raises(StylePluginError, match="Give the new style a name"):
        request_with_open_image("", painting, 10, [], save, learn_from_open_image=False)
    with pytest.raises(StylePluginError, match="No image file"):
        request_with_open_image("Mine", tmp_path / "no.png", 10, [], save, False)
    assert saved == []
    from_file = request_with_open_image("Mine", painting, 10, [], save, False)
    assert (from_file.painting, from_file.preview_photo) == (painting, tmp_path / "mine-open.png")
    from_open = request_with_open_image("Mine", "", 10, [], save, True)
    assert from_open.painting == from_open.preview_photo == tmp_path / "mine-open.png"
    assert saved == ["mine", "mine"]  # once a request: learnt from and drawn on, the same file
    unseen = request_with_open_image("Mine", painting, 10, [], save, False, False)
    assert unseen.preview_photo is None and saved == ["mine", "mine"]
    with pytest.raises(StylePluginError, match="Open an image first"):
        request_with_open_image("Mine", "", 10, [], None, True)
    assert request_with_open_image("Mine", painting, 10, [], None, False).preview_photo is None


def test_steps_carry_the_time_left_and_the_text_says_it():
    request = NewStyleRequest("mine", "Mine", Path("/p.png"), 600)
    assert progress_text(request, Progress()) == "Preparing to learn “Mine”…"
    progress = read_event('{"event": "step", "step": 1, "total": 600, "eta_s": 1210.5}', Progress())
    assert progress == Progress(1, 600, eta_s=1210.5)
    assert (
        progress_text(request, progress) == "Learning “Mine”: step 1 of 600, about 20 minutes left"
    )
    for bad in ('"soon"', "-5", "true", "1e999", "null"):
        line = f'{{"event": "step", "step": 2, "total": 600, "eta_s": {bad}}}'
        assert read_event(line, progress) == Progress(
            2, 600
        )  # no time said rather than a wrong one
    assert progress_text(request, Progress(2, 600)) == "Learning “Mine”: step 2 of 600"
    added = read_event('{"event": "added", "style": "mine", "model": "/m.onnx"}', progress)
    assert progress_text(request, added) == "Learning “Mine”: step 600 of 600"


def test_a_preview_is_shown_only_where_it_is_the_requests_own_file():
    mine = live_preview_path("mine")
    progress = Progress(50, 600)

    def preview(path: object, step: object = 50) -> str:
        return json.dumps({"event": "preview", "step": step, "path": path})

    shown = read_event(preview(str(mine)), progress, mine)
    assert (shown.preview, shown.preview_step) == (mine, 50) and shown.step == 50
    for line in [
        preview(str(mine)),  # a request that asked for no preview
    ]:
        assert read_event(line, progress, None) == progress
    for line in [
        preview("/etc/passwd"),
        preview(str(mine.parent / "other-preview.png")),
        preview(str(mine.parent / ".." / "runs" / mine.name)),
        preview(str(mine) + "\n"),
        preview(None),
        preview(str(mine), step="50"),
        preview(str(mine), step=-1),
    ]:
        assert read_event(line, progress, mine) == progress, line


def test_the_intro_says_how_long_here_once_measured():
    assert intro(600).startswith(ABOUT + " ")
    assert "typical 2-core laptop CPU" in intro(600)
    record_speed(MeasuredSpeed(steps_per_s=1.0, device="cpu", crop_size=256, batch_size=4))
    assert intro(600) == (
        f"{ABOUT} 600 steps take about 10 minutes here (measured in the last training on this "
        "machine, on cpu)."
    )
