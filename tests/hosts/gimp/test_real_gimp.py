"""The plug-in in the real GIMP 3: Stylize run by gimp-console-3.0 (on this machine where
GIMP 3 is installed, and in the Debian 13 root), and its dialog opened from the menu in the
whole GIMP under Xvfb (the root). What runs inside GIMP is in drivers/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.hooks.filters import Filter
from style_plugin.hooks.hosts.gimp import bridge
from style_plugin.hooks.hosts.gimp import installer as gimp_installer
from tests.hosts.gimp.real_gimp import (
    DIALOG_CORNER,
    GimpPlace,
    gimp_place,
    install_plugin,
    run_console,
    run_dialog,
)
from tests.hosts.gimp.samples import LATE, VALUES, late_model, rgba_photo
from tests.support import sample_photo


def run_gimp(
    place: GimpPlace, cases: list[dict], arguments: dict, installed_later: list[tuple[str, str]]
) -> tuple[dict, str]:
    """Run drivers/stylize_batch.py in gimp-console-3.0 with a private GIMP profile; its
    outcome file and log. The driver copies each (source, target) of `installed_later` once
    GIMP has recorded the procedure, before the cases run (a case's own "arguments" override
    `arguments`)."""
    settings = {
        "procedure": bridge.PROCEDURE_NAME,
        "arguments": arguments,
        "cases": cases,
        "installed_later": installed_later,
        "outcome": place.path("outcome.json"),
    }
    log = run_console(place, "stylize_batch.py", settings)
    outcome = place.work / "outcome.json"
    return (json.loads(outcome.read_text()) if outcome.exists() else {}), log


@pytest.mark.host
@pytest.mark.parametrize("where", ["this machine", "debian 13 root"])
def test_gimp_console_runs_the_plugin_and_matches_the_filter(
    where: str, stylize: Filter, style_model: Path, user_models_dir: Path, tmp_path: Path
) -> None:
    """The real GIMP 3 runs plug-in-style-plugin-stylize non-interactively on an RGBA and an
    RGB image and on a selection: the result is the filter's (within one level), stylized,
    and the transparency is the image's own; a style installed after GIMP recorded the
    procedure runs too; the plug-in's folder holds only what the installer wrote."""
    with gimp_place(where, tmp_path) as place:
        install_plugin(place, where)
        (place.work / "models").mkdir()
        shutil.copy(style_model, place.work / "models" / style_model.name)
        image = rgba_photo(place.work / "photo.png")
        image.convert("RGB").save(place.work / "photo-rgb.png")
        box = (8, 6, 30, 24)  # x, y, width, height of the selection case
        arguments, late = (
            {bridge.argument_name(name): value for name, value in values.items()}
            for values in (VALUES, LATE)
        )
        cases = [
            {"source": "photo.png", "target": "whole.png", "selection": None},
            {"source": "photo-rgb.png", "target": "rgb.png", "selection": None},
            {"source": "photo.png", "target": "box.png", "selection": box},
            {"source": "photo.png", "target": "late.png", "selection": None, "arguments": late},
        ]
        for case in cases:
            case.update(source=place.path(case["source"]), target=place.path(case["target"]))
        late_model(style_model, place.work / "late.onnx")
        installed_later = [(place.path("late.onnx"), place.path("models/late.onnx"))]
        outcome, log = run_gimp(place, cases, arguments, installed_later)
        assert outcome == {case["target"]: "ok" for case in cases}, log
        assert "cuda" not in log.lower(), log  # onnxruntime-gpu's loader noise stays out
        plugin = place.work / "gimp3" / "plug-ins" / gimp_installer.PLUGIN_NAME
        left = sorted(path.name for path in plugin.iterdir())
        assert left == sorted(gimp_installer.INSTALLED_FILES), log  # no bytecode written there
        results = {
            name: np.asarray(Image.open(place.work / name).convert("RGBA"), dtype=np.int16)
            for name in ("whole.png", "rgb.png", "box.png", "late.png")
        }

    source = np.asarray(image, dtype=np.int16)
    expected = np.asarray(stylize.apply(image, VALUES), dtype=np.int16)
    assert np.abs(results["whole.png"] - expected).max() <= 1, log
    np.testing.assert_array_equal(results["whole.png"][..., 3], source[..., 3])
    assert np.abs(results["whole.png"] - source)[..., :3].mean() > 5  # really stylized

    rgb = image.convert("RGB")
    expected_rgb = np.asarray(stylize.apply(rgb, VALUES).convert("RGBA"), dtype=np.int16)
    assert np.abs(results["rgb.png"] - expected_rgb).max() <= 1, log

    x, y, w, h = box
    in_box = source.copy()
    in_box[y : y + h, x : x + w] = np.asarray(
        stylize.apply(image.crop((x, y, x + w, y + h)), VALUES)
    )
    assert np.abs(results["box.png"] - in_box).max() <= 1, log

    late_model(style_model, user_models_dir / "late.onnx")
    expected_late = np.asarray(stylize.apply(image, {**VALUES, **LATE}), dtype=np.int16)
    assert np.abs(results["late.png"] - expected_late).max() <= 1, log
    assert np.abs(expected_late - expected).mean() > 1  # not the other cases' style


#: Where the dialog's preview is in that corner (above the settings).
PREVIEW_CORNER = (0, 0, 400, 230)


@pytest.mark.host
def test_gimp_dialog_opens_from_the_menu_and_ok_filters_the_layer(tmp_path: Path) -> None:
    """The whole interactive path in the real GIMP 3 under Xvfb (Debian 13 root): the
    procedure's dialog opens with its preview drawn, is photographed (its corner of the
    screen, saved as gimp-stylize.png in the test's folder, is docs/images/gimp-stylize.png),
    OK filters the layer with the dialog's values, keeping its transparency, and one
    Edit > Undo (Ctrl+Z) brings back the image exactly."""
    with gimp_place("debian 13 root", tmp_path) as place:
        install_plugin(place, "debian 13 root")
        image = sample_photo(320, 213).convert("RGBA")  # the package's cat, with a hole
        image.paste((0, 0, 0, 0), (220, 20, 300, 80))
        image.save(place.work / "photo.png")
        settings = {
            "procedure": bridge.PROCEDURE_NAME,
            "source": place.path("photo.png"),
            "target": place.path("result.png"),
            "outcome": place.path("outcome.json"),
            "filtered": place.path("filtered"),
            "undone": place.path("undone"),
            "after_undo": place.path("after-undo.png"),
        }
        log = run_dialog(
            place, "stylize_dialog.py", settings, "Stylize", after="undo_in_image_window.sh"
        )
        assert log.startswith("exit 0") and "dialog: Stylize" in log, log
        outcome = json.loads((place.work / "outcome.json").read_text())
        assert outcome == {"status": "GIMP_PDB_SUCCESS", "message": None}, log
        result = np.asarray(Image.open(place.work / "result.png").convert("RGBA"), np.int16)
        undone = np.asarray(Image.open(place.work / "after-undo.png").convert("RGBA"), np.int16)
        screen = Image.open(place.work / "screen.png")
        screen.load()
        screen.crop(DIALOG_CORNER).save(tmp_path / "gimp-stylize.png")
    source = np.asarray(image, dtype=np.int16)
    np.testing.assert_array_equal(result[..., 3], source[..., 3])
    assert np.abs(result - source)[..., :3].mean() > 5  # stylized with the dialog's values
    np.testing.assert_array_equal(undone, source)  # one Edit > Undo (Ctrl+Z) removes it all
    assert screen.size == (1280, 800)
    top = np.asarray(screen.convert("RGB").crop(PREVIEW_CORNER), dtype=np.int16)
    assert (top.max(axis=2) - top.min(axis=2)).mean() > 20  # colour where GIMP's UI is grey
