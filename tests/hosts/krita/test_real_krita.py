"""The Krita plug-in in the real Krita (tests/hosts/krita/real_krita.py runs it; where Krita
is missing, or embeds another Python, these tests are skipped with the reason printed).

`kritarunner`, headless, runs the plug-in's code on documents of every layer type and exports
them (drivers/stylize_runner.py); the whole application, on a virtual display of its own,
loads the installed plug-in, and a small extension triggers Filter > Stylize…, fills in the
dialog, exports, checks Undo and Stylize Again and quits (drivers/stylize_driver.py), or adds
a style from an image and cancels another (drivers/new_style_driver.py).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.hooks.filters import Filter
from style_plugin.hooks.hosts.krita import installer
from style_plugin.hooks.hosts.krita.pixels import filter_layer_bytes, layer_format
from style_plugin.runtime.model import load_model
from style_plugin.training.watching import MeasuredSpeed, record_speed
from tests.hosts.krita.real_krita import (
    install_driver,
    krita_home,
    require,
    run_bounded,
    run_kritarunner,
)
from tests.hosts.krita.samples import U8, write_test_image
from tests.support import PACK_STYLES, bundled_styles, on_a_display

pytestmark = pytest.mark.host


def assert_matches_filter(result: np.ndarray, expected: np.ndarray) -> None:
    """Alpha identical; colour within one level where a pixel is visible."""
    np.testing.assert_array_equal(result[..., 3], expected[..., 3])
    visible = expected[..., 3] > 0
    difference = np.abs(result[..., :3].astype(int) - expected[..., :3].astype(int))
    assert difference[visible].max(initial=0) <= 1


@pytest.mark.skipif(shutil.which("krita") is None, reason="Krita is not installed")
def test_this_machines_krita_python_is_found():
    found = installer.krita_python_version()
    assert found is not None, "Krita is installed but its Python plug-in was not found"
    version, library = found
    assert library.name.startswith(("kritapykrita", "krita"))
    assert version.startswith("3.")


def test_kritarunner_runs_the_plugin_code(
    request, tmp_path: Path, user_models_dir: Path, stylize: Filter
):
    require(request, "kritarunner")
    env = krita_home(tmp_path, user_models_dir)
    source = write_test_image(tmp_path / "in.png")
    params = {"style": "the_scream", "strength": 0.8}
    cases = [
        {"name": "layer", "params": params},
        {"name": "half-selected", "params": params, "selection": [8, 2, 20, 24, 128]},
        {"name": "16-bit", "params": params, "space": ["RGBA", "U16", ""]},
        {"name": "float", "params": params, "space": ["RGBA", "F32", "sRGB-elle-V2-g10.icc"]},
        {"name": "half-float", "params": params, "space": ["RGBA", "F16", "sRGB-elle-V2-g10.icc"]},
        {"name": "gray", "params": params, "space": ["GRAYA", "U8", ""]},
        {"name": "gray-16", "params": params, "space": ["GRAYA", "U16", ""]},
        {"name": "cmyk", "params": params, "space": ["CMYKA", "U8", ""]},
        {"name": "scripter", "params": params, "scripter": True},
    ]
    for case in cases:
        case["output"] = str(tmp_path / f"{case['name']}.png")
    config = {"input": str(tmp_path / "in.png"), "report": str(tmp_path / "report.json")}
    config["cases"] = cases
    log = run_kritarunner("stylize_runner", config, env, tmp_path)
    assert (tmp_path / "report.json").exists(), log[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    height, width = source.shape[:2]
    stylized = np.asarray(stylize.apply(source, params).convert("RGBA"))

    layer = report["layer"]
    assert layer.get("error") is None, layer.get("error")
    assert layer["layers"] == ["Background", "Background (Stylize: The Scream)"]
    assert_matches_filter(U8.decode(bytes.fromhex(layer["pixels"]), width, height)[0], stylized)
    assert_matches_filter(np.asarray(Image.open(cases[0]["output"])), stylized)
    scripted = report["scripter"]
    assert scripted.get("error") is None, scripted.get("error")
    assert scripted["pixels"] == layer["pixels"] and scripted["layers"] == layer["layers"]

    x, y, w, h, value = cases[1]["selection"]
    crop = source[y : y + h, x : x + w]
    expected = np.zeros_like(source)
    expected[y : y + h, x : x + w] = np.asarray(stylize.apply(crop, params).convert("RGBA"))
    expected[y : y + h, x : x + w, 3] = (crop[..., 3].astype(int) * value + 127) // 255
    half = report["half-selected"]
    assert half.get("error") is None, half.get("error")
    assert_matches_filter(U8.decode(bytes.fromhex(half["pixels"]), width, height)[0], expected)
    assert half["preview"] == [w, h] and report["layer"]["preview"] == [width, height]

    # Every other layer type: the result layer has the layer's colour space, its alpha is the
    # layer's own exactly, and its colours are the filter's on the layer's pixels as Krita
    # converted them, within a level (of 8 bits).
    for name, model, depth, linear in [
        ("16-bit", "RGBA", "U16", False),
        ("float", "RGBA", "F32", True),
        ("half-float", "RGBA", "F16", True),
        ("gray", "GRAYA", "U8", False),
        ("gray-16", "GRAYA", "U16", False),
    ]:
        case = report[name]
        assert case.get("error") is None, (name, case.get("error"))
        assert case["space"][:2] == [model, depth] and case["result_space"] == case["space"]
        fmt = layer_format(*case["space"])
        assert fmt.linear == linear, case["space"]
        data = bytes.fromhex(case["input"])
        expected = filter_layer_bytes(stylize, data, width, height, fmt, params)
        result = bytes.fromhex(case["pixels"])
        channels = 2 if model == "GRAYA" else 4
        stored = np.frombuffer(result, fmt.dtype).reshape(height, width, channels)
        wanted = np.frombuffer(expected, fmt.dtype).reshape(height, width, channels)
        np.testing.assert_array_equal(stored[..., -1], wanted[..., -1], err_msg=name)
        got, want = fmt.decode(result, width, height)[0], fmt.decode(expected, width, height)[0]
        level = 1 if got.dtype == np.uint8 else 257
        visible = want[..., 3] > 0
        difference = np.abs(got[..., :3].astype(int) - want[..., :3].astype(int))
        assert difference[visible].max(initial=0) <= level + 1, name
        assert case["preview"] == [width, height], name

    assert "Cannot stylize 'Background'" in report["cmyk"]["error"]
    assert "CMYKA" in report["cmyk"]["error"]
    assert "Convert Image Color Space" in report["cmyk"]["error"]

    formats = report["text_formats"]
    assert formats["plain"]["<u>Style</u>"] and formats["plain"]["<i>rich?</i>"], formats
    assert formats["plain"]["preview"] and all(formats["plain"].values()), formats
    assert formats["choice"] == ["<b>A</b>\\x1b[2J", "a"]

    cancel = report["cancel"]
    assert cancel.get("raised") == "Cancelled", cancel
    assert cancel["maximum"] == 200 and 0 < cancel["value"] < 200


def test_krita_runs_the_installed_action_and_undoes_it(
    request,
    tmp_path: Path,
    user_models_dir: Path,
    style_model: Path,
    stylize: Filter,
    pack_site: Path,
):
    """The whole GUI path, with a third-party style pack pip-installed beside the package."""
    require(request, "krita", "Xvfb")
    env = krita_home(tmp_path, user_models_dir)
    env["PYTHONPATH"] = str(pack_site)
    install_driver(tmp_path / "home", "stylize_driver")
    source = write_test_image(tmp_path / "in.png")
    params = {"style": "the_scream", "strength": 0.8}
    report_path, output = tmp_path / "report.json", tmp_path / "out.png"
    env["STYLIZE_DRIVER"] = json.dumps(
        {
            "report": str(report_path),
            "output": str(output),
            "screenshot": str(tmp_path / "screen.png"),
            "params": params,
        }
    )
    command = on_a_display(["krita", "--nosplash", "in.png"])
    log = run_bounded(command, env, tmp_path)
    assert report_path.exists(), log[-3000:]
    report = json.loads(report_path.read_text())
    assert report["error"] is None, report["error"]
    assert report["steps"] == [
        *["start", "dialog", "previewed", "applied", "exported", "undo", "again", "done"]
    ]
    assert "Traceback" not in log and "ASSERT" not in log, log[-3000:]
    assert "Stylize…" in report["filter_menu"]
    bundled = {info.name: info.label for info in bundled_styles()}
    pack = list(PACK_STYLES.values())
    # The user's styles come last, and one named like a bundled style is shadowed by it
    # (the first found wins: docs/plugins.md).
    user = [s.label for s in load_model(style_model).styles if s.name not in bundled]
    assert report["style_labels"] == [*bundled.values(), *pack, *user]
    expected = {**params, "preserve_colors": False, "scale": 1.0, "max_side": 0}
    assert report["values"] == expected
    assert report["preview_size"] and max(report["preview_size"]) == 320
    assert report["previewed"] == expected  # the preview followed the values by itself
    assert report["layers_after"] == ["Background", "Background (Stylize: The Scream)"]
    assert report["undo"] == "Undo Add Layer"
    assert report["layers_after_undo"] == report["layers_before"] == ["Background"]
    # Stylize Again: the same settings, no dialog, the same result
    assert "Stylize Again" in report["scripts_menu"]
    assert report["layers_after_again"] == report["layers_after"]
    assert report["again_pixels"] == report["result_pixels"]
    stylized = np.asarray(stylize.apply(source, params).convert("RGBA"))
    assert_matches_filter(np.asarray(Image.open(output)), stylized)
    assert Image.open(tmp_path / "screen.png").size == (1280, 800)


def test_krita_adds_a_style_from_an_image_and_cancels_another(
    request, tmp_path: Path, user_models_dir: Path, paintings: dict[str, Path]
):
    """Stylize's "New style from an image…" in the real Krita: its dialog says how long a
    style took here last time; the training runs as a separate process with progress, the
    time left and the open image drawn in the style as it is learnt; the new style appears
    selected in the Style list and is applied; a second one, learnt from the open image, is
    cancelled and keeps its checkpoint."""
    require(request, "krita", "Xvfb")
    env = krita_home(tmp_path, user_models_dir)
    record_speed(MeasuredSpeed(steps_per_s=0.5, device="cpu", crop_size=256, batch_size=4))
    install_driver(tmp_path / "home", "new_style_driver")
    write_test_image(tmp_path / "in.png")
    report_path = tmp_path / "report.json"
    config = {
        "report": str(report_path),
        "screenshot": str(tmp_path / "screen.png"),
        "painting": str(paintings["stripes"]),
        "label": "Test <b>Stripes</b>",
        "name": "test-b-stripes-b",
        "steps": 2,
        "cancel_label": "Cancelled one",
        "cancel_name": "cancelled-one",
        "cancel_steps": 500,
    }
    env["NEW_STYLE_DRIVER"] = json.dumps(config)
    command = on_a_display(["krita", "--nosplash", "in.png"])
    log = run_bounded(command, env, tmp_path, timeout=1200)
    assert report_path.exists(), log[-3000:]
    report = json.loads(report_path.read_text())
    assert report["error"] is None, (report["error"], log[-3000:])
    assert report["steps"] == [
        *["start", "dialog", "refused", "training", "added", "cancel pressed", "stopped"],
        *["previewed", "applied", "done"],
    ]
    assert report["refused"] == "Give the new style a name." and report["still_open"]
    assert (
        "600 steps take about 20 minutes here (measured in the last training on this machine, "
        "on cpu)." in report["intro"]
    ), report["intro"]
    progress = report["progress"]
    assert any(value >= 1 and maximum == 2 for value, maximum, *_ in progress), progress
    assert any(
        re.search(r"step 1 of 2, (about \d+ minutes?|less than a minute) left", text)
        for _, _, text, _ in progress
    ), progress
    previews = [size for *_, size in progress if size is not None]
    assert previews and previews[-1] == [40, 32], progress  # the open image, its own size
    assert (user_models_dir.parent / "runs" / "test-b-stripes-b-preview.png").is_file()

    name = config["name"]
    assert report["selected"] == name
    assert report["labels_after"] == [*report["labels_before"], config["label"]]
    assert config["label"] in report["message"]
    model = load_model(user_models_dir / f"{name}.onnx")
    assert [(s.name, s.label) for s in model.styles] == [(name, config["label"])]
    assert report["layers_after"] == ["Background", f"Background (Stylize: {config['label']})"]
    assert report["preview"] and max(report["preview"]) == 320

    runs = user_models_dir.parent / "runs"
    assert not report["cancelled_listed"]
    assert not (user_models_dir / "cancelled-one.onnx").exists()
    assert (runs / "cancelled-one" / "checkpoint.pt").is_file()  # goes on from here
    assert Image.open(runs / "cancelled-one-painting.png").size == (40, 32)  # the open image
    assert "Traceback" not in log, log[-3000:]
