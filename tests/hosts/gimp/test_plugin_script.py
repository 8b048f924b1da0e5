"""The plug-in's procedures run against a stand-in for GIMP's API (fake_gimp.py): what they
register, the dialog and its preview, the filtered selection as one undo step, the errors
GIMP is told."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_plugin.hooks.filters import Filter
from style_plugin.hooks.hosts import InstallOptions
from style_plugin.hooks.hosts.environment import RECORD_FILE
from style_plugin.hooks.hosts.gimp import bridge
from style_plugin.hooks.hosts.gimp import installer as gimp_installer
from tests.hosts.gimp.fake_gimp import (
    FakeDrawable,
    FakeGimp,
    FakeImage,
    config_of,
    registered_procedure,
)
from tests.hosts.gimp.samples import VALUES, gegl_bytes, late_model, rgba_photo
from tests.support import sample_photo


def test_script_registers_the_procedure_from_the_schema(stylize: Filter, load_plugin) -> None:
    procedure = registered_procedure(load_plugin(FakeGimp()))
    assert procedure.name == bridge.PROCEDURE_NAME
    assert procedure.info["menu_path"] == "<Image>/Filters/Artistic"
    assert procedure.info["menu_label"] == "_Stylize..."
    assert procedure.info["image_types"] == "RGB*, GRAY*"
    assert procedure.arguments == [
        ("string", "style", "Style", "starry-night"),
        ("double", "strength", "Strength", 0.0, 1.0, 0.8),
        ("boolean", "preserve-colors", "Preserve colours", False),
        ("double", "scale", "Stroke scale", 0.0, 8.0, 1.0),
        ("int", "max-side", "Maximum side", 0, 65536, 0),
    ]


def test_script_filters_the_selection_as_one_undo_step(
    stylize: Filter, load_plugin, tmp_path: Path
) -> None:
    fake = FakeGimp()
    procedure = registered_procedure(load_plugin(fake))
    image = rgba_photo(tmp_path / "photo.png")
    pixels = bridge.pixels_from_bytes(gegl_bytes(image), *image.size).copy()
    drawable = FakeDrawable(pixels, box=(8, 6, 30, 24))
    config = config_of(VALUES)
    gimp_image = FakeImage()
    status = procedure.run(procedure, "noninteractive", gimp_image, [drawable], config, None)
    assert status == ("success", None)
    assert (gimp_image.undo, drawable.merged, fake.dialogs) == (["start", "end"], [True], [])
    assert fake.progress[-1] == 1.0
    expected = np.asarray(image).copy()
    expected[6:30, 8:38] = np.asarray(stylize.apply(image.crop((8, 6, 38, 30)), VALUES))
    got = np.rint(drawable.pixels * 255).astype(np.uint8)
    assert np.array_equal(got, expected)


def test_script_asks_interactively_and_a_cancel_changes_nothing(
    stylize: Filter, load_plugin
) -> None:
    fake = FakeGimp(dialog_answer=False)
    procedure = registered_procedure(load_plugin(fake))
    pixels = np.full((4, 5, 4), 0.5, np.float32)
    drawable = FakeDrawable(pixels, box=None)
    config = config_of(VALUES)
    status = procedure.run(procedure, "interactive", FakeImage(), [drawable], config, None)
    assert status == ("cancel", None)
    assert fake.dialogs == [bridge.PROCEDURE_NAME]
    assert np.all(pixels == 0.5)


def test_script_dialog_previews_the_region_and_follows_the_settings(
    stylize: Filter, load_plugin
) -> None:
    """The dialog shows the filter's preview of the selection's box for its values (the
    filter's own `preview` of the box), redraws it once a value changes, and shows the box as
    it is while Preview is off; closing drops a redraw still waiting; Cancel still changes
    nothing."""
    source = np.asarray(sample_photo(400, 300).convert("RGBA"))
    pixels = source.astype(np.float32) / np.float32(255.0)
    box = (40, 30, 360, 240)  # x, y, width, height: previewed at 320 x 213
    config = config_of(VALUES)

    def while_open(fake: FakeGimp) -> None:
        fake.run_timeouts()
        config.set_property("strength", 0.3)
        config.set_property("style", "starry-night")  # one redraw for both: debounced
        fake.run_timeouts()
        [toggle] = fake.toggles
        toggle.active = False
        toggle.handlers["toggled"](toggle)
        fake.run_timeouts()
        config.set_property("strength", 0.5)  # a redraw still waits when the dialog closes

    fake = FakeGimp(dialog_answer=False, while_open=while_open)
    procedure = registered_procedure(load_plugin(fake))
    drawable = FakeDrawable(pixels, box=box)
    status = procedure.run(procedure, "interactive", FakeImage(), [drawable], config, None)
    assert status == ("cancel", None)
    assert np.array_equal(drawable.pixels, pixels)
    assert not fake.timeouts  # the waiting redraw was dropped with the dialog
    [area] = fake.areas
    first, second, unfiltered = area.drawn
    assert first.shape == second.shape == unfiltered.shape == (213, 320, 4)
    x, y, w, h = box
    region = Image.fromarray(source[y : y + h, x : x + w])
    expected = stylize.preview(region.convert("RGB"), VALUES, max_side=320)
    expected = np.asarray(expected.convert("RGB").resize((320, 213), Image.Resampling.LANCZOS))
    assert np.abs(first[..., :3].astype(int) - expected).max() <= 2
    shown = np.asarray(region.resize((320, 213)), dtype=int)
    assert np.abs(first.astype(int) - shown)[..., :3].mean() > 5  # really stylized
    assert np.abs(second.astype(int) - first).mean() > 3  # followed the new settings
    assert np.abs(unfiltered.astype(int) - shown).max() <= 1
    assert np.array_equal(first[..., 3], unfiltered[..., 3])


def test_script_dialog_lists_the_styles_installed_when_it_opens(
    stylize: Filter, style_model: Path, user_models_dir: Path, load_plugin, tmp_path: Path
) -> None:
    """A style pack installed after GIMP recorded the procedure is in the dialog's Style list,
    labelled, in the schema's place; the list opens on the first installed style when the
    config's is gone, and the style picked there is the one the filter runs with."""
    image = rgba_photo(tmp_path / "photo.png", 16, 12)
    pixels = bridge.pixels_from_bytes(gegl_bytes(image), *image.size).copy()
    config = config_of({**VALUES, "style": "removed-since"})

    def while_open(fake: FakeGimp) -> None:
        config.set_property("style", "late-the_scream")  # what picking it in the list does

    fake = FakeGimp(while_open=while_open)
    procedure = registered_procedure(load_plugin(fake))
    late_model(style_model, user_models_dir / "late.onnx")
    drawable = FakeDrawable(pixels, box=None)
    status = procedure.run(procedure, "interactive", FakeImage(), [drawable], config, None)
    assert status == ("success", None)
    styles = [(choice.value, choice.label) for choice in stylize.style_choices()]
    assert ("late-the_scream", "Late The Scream") in styles and len(styles) == 4
    assert fake.rows[0] == ("list", "style", styles, styles[0][0])
    assert fake.rows[1:] == ["strength", "preserve-colors", "scale", "max-side"]
    expected = stylize.apply(image, {**VALUES, "style": "late-the_scream"})
    assert np.array_equal(np.rint(pixels * 255).astype(np.uint8), np.asarray(expected))


def test_script_runs_a_style_installed_after_registration_from_scripts(
    stylize: Filter, style_model: Path, user_models_dir: Path, load_plugin, tmp_path: Path
) -> None:
    procedure = registered_procedure(load_plugin(FakeGimp()))
    late_model(style_model, user_models_dir / "late.onnx")
    image = rgba_photo(tmp_path / "photo.png", 16, 12)
    pixels = bridge.pixels_from_bytes(gegl_bytes(image), *image.size).copy()
    config = config_of({**VALUES, "style": "late-starry-night"})
    drawable = FakeDrawable(pixels, box=None)
    status = procedure.run(procedure, "noninteractive", FakeImage(), [drawable], config, None)
    assert status == ("success", None)
    expected = stylize.apply(image, {**VALUES, "style": "late-starry-night"})
    assert np.array_equal(np.rint(pixels * 255).astype(np.uint8), np.asarray(expected))


def test_script_wants_exactly_one_layer(stylize: Filter, load_plugin) -> None:
    procedure = registered_procedure(load_plugin(FakeGimp()))
    layer = FakeDrawable(np.zeros((2, 2, 4), np.float32), box=None)
    status, message = procedure.run(
        procedure, "noninteractive", FakeImage(), [layer, layer], None, None
    )
    assert (status, message) == ("calling-error", "Select exactly one layer (not a group).")


def test_script_reports_filter_errors_to_gimp(stylize: Filter, load_plugin) -> None:
    procedure = registered_procedure(load_plugin(FakeGimp()))
    layer = FakeDrawable(np.zeros((8, 8, 4), np.float32), box=None)
    config = config_of({**VALUES, "style": "no-such-style"})
    image = FakeImage()
    status, message = procedure.run(procedure, "noninteractive", image, [layer], config, None)
    assert (status, message) == (
        "execution-error",
        "parameter 'style' must be one of starry-night, the_scream; got 'no-such-style'",
    )
    assert image.undo == ["start", "end"]


def test_script_without_its_environment_registers_nothing(
    load_plugin, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / gimp_installer.PLUGIN_NAME / RECORD_FILE).unlink()
    assert load_plugin(FakeGimp()).StylizePlugIn().do_query_procedures() == []
    assert "style-plugin install gimp" in capsys.readouterr().err


def test_script_leaves_nothing_in_gimps_folder_but_the_installed_files(
    stylize: Filter, load_plugin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The script and the modules it imports write no bytecode beside themselves, so the
    plug-in folder holds only what the installer wrote and an uninstall removes it whole."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as a Python starts
    procedure = registered_procedure(load_plugin(FakeGimp()))
    layer = FakeDrawable(np.zeros((8, 8, 4), np.float32), box=None)
    status = procedure.run(
        procedure, "noninteractive", FakeImage(), [layer], config_of(VALUES), None
    )
    assert status == ("success", None)
    folder = tmp_path / gimp_installer.PLUGIN_NAME
    assert sorted(p.name for p in folder.iterdir()) == sorted(gimp_installer.INSTALLED_FILES)
    gimp_installer.install(InstallOptions(plugin_dir=tmp_path, uninstall=True))
    assert not folder.exists()
