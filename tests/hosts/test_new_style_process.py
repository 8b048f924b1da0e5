"""hooks/hosts/new_style.py: what an editor asks for a new style, the process it starts, and
how it reads what that process reports (the Krita dialog around it:
tests/hosts/krita/test_real_krita.py)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from style_plugin.errors import StylePluginError
from style_plugin.hooks.hosts.new_style import (
    NewStyleRequest,
    Progress,
    add_style_command,
    checked_name,
    child_environment,
    failure_message,
    read_event,
    snapshot_painting_path,
    style_name,
)
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
