"""`style-plugin models` and `doctor` (style_plugin/cli/inventory.py): the installed styles,
broken model files, and what works on this machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.support import run_cli


def test_models_lists_styles_and_broken_files(style_model, user_models_dir, capsys):
    user_models_dir.mkdir(parents=True)
    shutil.copy(style_model, user_models_dir / "two.onnx")
    (user_models_dir / "broken.onnx").write_text("not a model")
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["NAME", "LABEL", "PAINTING", "SOURCE"]
    for name in ("starry-night", "the_scream"):
        (row,) = [line for line in lines if line.startswith(name + " ")]
        assert "user" in row and "two.onnx" in row and "fast" in row
    assert "broken model files (1, skipped):" in out
    assert "broken.onnx (user): " in out


def test_models_json(style_model, user_models_dir, capsys):
    user_models_dir.mkdir(parents=True)
    shutil.copy(style_model, user_models_dir / "two.onnx")
    (user_models_dir / "broken.onnx").write_bytes(b"")
    code, out, _ = run_cli(capsys, "models", "--json")
    assert code == 0
    document = json.loads(out)
    assert [s["name"] for s in document["styles"]] == ["starry-night", "the_scream"]
    assert {s["source"] for s in document["styles"]} == {"user"}
    assert document["styles"][0]["precision"] == "fp32"
    assert [s["painting"] for s in document["styles"]] == ["starry-night.jpg", "the_scream.jpg"]
    assert [Path(b["model"]).name for b in document["broken"]] == ["broken.onnx"]
    assert document["user_models_dir"] == str(user_models_dir)


def test_models_when_none_are_installed_says_how_to_add_one(user_models_dir, capsys):
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    assert "no style models installed" in out
    assert str(user_models_dir / "name.onnx") in out and "style-plugin export" in out


def test_doctor(style_model, user_models_dir, capsys):
    user_models_dir.mkdir(parents=True)
    shutil.copy(style_model, user_models_dir / "two.onnx")
    code, out, err = run_cli(capsys, "doctor")
    assert code == 0
    for needle in ("style-plugin", "python", "onnxruntime", "numpy", "Pillow", "torch"):
        assert needle in out
    assert "CPUExecutionProvider" in out
    (cuda,) = [line for line in out.splitlines() if line.startswith("CUDA")]
    assert any(word in cuda for word in ("works:", "not used here:", "not available:")), cuda
    if not Path("/dev/nvidia0").exists():
        assert "works:" not in cuda
    text = out + err
    assert "libcublas" not in text and "[E:onnxruntime" not in text
    assert str(user_models_dir) in out and "(1 model file)" in out


def test_doctor_without_models_says_the_check_needs_one(capsys):
    code, out, _ = run_cli(capsys, "doctor")
    assert code == 0
    (cuda,) = [line for line in out.splitlines() if line.startswith("CUDA")]
    assert "not checked" in cuda or "not available" in cuda


def test_models_shows_labels_as_text_never_as_rich_markup(style_model, user_models_dir, capsys):
    """Labels come from model files: rich must not read them as markup or emoji codes."""
    import onnx

    model = onnx.load(str(style_model))
    (styles,) = [p for p in model.metadata_props if p.key == "style_plugin.styles"]
    listed = json.loads(styles.value)
    listed[0]["label"] = "[bold red]Loud[/] :smile:"
    styles.value = json.dumps(listed)
    user_models_dir.mkdir(parents=True)
    onnx.save(model, str(user_models_dir / "loud.onnx"))
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    (row,) = [line for line in out.splitlines() if line.startswith("starry-night ")]
    assert "[bold red]Loud[/] :smile:" in row


def test_doctor_rows_stay_whole_lines_however_long(capsys, monkeypatch, tmp_path):
    """stdout is no terminal here: no wrapping and no box, so every row stays one greppable
    line (the user model folder is far wider than any terminal)."""
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 12)
    monkeypatch.setenv("STYLE_PLUGIN_MODELS_DIR", str(deep))
    code, out, _ = run_cli(capsys, "doctor")
    assert code == 0
    (row,) = [line for line in out.splitlines() if line.startswith("user models ")]
    assert row.split() == ["user", "models", str(deep), "(does", "not", "exist", "yet)"]
    assert not any(char in out for char in "─│┃━")
