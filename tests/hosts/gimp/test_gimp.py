"""The GIMP 3 host: schema -> procedure arguments, pixels, bootstrap, installer, and (where
GIMP 3 is installed) the plug-in run headless by `gimp-console-3.0`."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from style_plugin.hooks.filters import Choice, Filter, Param
from style_plugin.hooks.hosts import InstallOptions, installer
from style_plugin.hooks.hosts.environment import RECORD_FILE
from style_plugin.hooks.hosts.gimp import bridge
from style_plugin.hooks.hosts.gimp import installer as gimp_installer

from style_plugin.errors import StylePluginError
from tests.hosts.gimp.fake_gimp import (
    FakeDrawable,
    FakeGimp,
    FakeImage,
    config_of,
    registered_procedure,
)
from tests.hosts.gimp.real_gimp import (
    DIALOG_CLOSING,
    DIALOG_CORNER,
    DIALOG_OPENING,
    GimpPlace,
    gimp_place,
    install_plugin,
    run_console,
    run_dialog,
)
from tests.support import REPO, fake_python, load_bootstrap, make_photo, sample_photo

PLUGIN_SOURCE = gimp_installer.SOURCE_DIR
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"
VALUES = {
    "style": "the_scream",
    "strength": 0.8,
    "preserve_colors": False,
    "scale": 1.0,
    "max_side": 0,
}
#: The style a script picks from the pack installed after GIMP recorded the procedure.
LATE = {"style": "late-starry-night"}


def late_model(style_model: Path, path: Path) -> Path:
    """The two-style test model with its styles renamed ('late-starry-night', 'Late Starry
    Night', ...), saved to `path`: a style pack installed after GIMP recorded the plug-in."""
    import onnx

    model = onnx.load(str(style_model))
    for prop in model.metadata_props:
        if prop.key == "style_plugin.styles":
            styles = json.loads(prop.value)
            late = [{"name": f"late-{s['name']}", "label": f"Late {s['label']}"} for s in styles]
            prop.value = json.dumps(late)
    onnx.save(model, str(path))
    return path


def rgba_photo(path: Path, width: int = 56, height: int = 44) -> Image.Image:
    """A small RGBA photo with a smooth alpha ramp (never fully transparent), saved to `path`."""
    rgb = np.asarray(Image.open(make_photo(path, width, height)).convert("RGB"))
    alpha = np.linspace(64, 255, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    image = Image.fromarray(np.dstack([rgb, np.rint(alpha).astype(np.uint8)]), "RGBA")
    image.save(path)
    return image


def gegl_bytes(image: Image.Image) -> bytes:
    """What GEGL hands the plug-in for an 8-bit RGBA image read as `PIXEL_FORMAT`."""
    return (np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0).tobytes()


def as_uint8(data: bytes, width: int, height: int) -> np.ndarray:
    """What GIMP stores in an 8-bit drawable from `PIXEL_FORMAT` bytes."""
    values = bridge.pixels_from_bytes(data, width, height)
    return np.rint(np.clip(values, 0, 1) * 255).astype(np.uint8)


# -- schema -> arguments ---------------------------------------------------------------------


def test_float_param_becomes_a_double_argument_with_range_default_and_label() -> None:
    param = Param("strength", "Strength", "float", 0.75, "How much.", minimum=0, maximum=1)
    argument = bridge.argument_for(param)
    assert argument == bridge.Argument(
        "double", "strength", "strength", "Strength", "How much.", 0.75, 0.0, 1.0
    )


def test_unbounded_numbers_get_the_widest_range_gimp_accepts() -> None:
    double = bridge.argument_for(Param("gain", "Gain", "float", 2))
    number = bridge.argument_for(Param("count", "Count", "int", 3, minimum=1, maximum=10**12))
    assert (double.minimum, double.maximum) == (-sys.float_info.max, sys.float_info.max)
    assert (number.kind, number.minimum, number.maximum, number.default) == (
        "int",
        1,
        2**31 - 1,
        3,
    )


def test_bool_string_and_choice_params() -> None:
    boolean = bridge.argument_for(Param("keep_alpha", "Keep_alpha", "bool", True))
    text = bridge.argument_for(Param("title", "Title", "string", None, "A title."))
    choice = bridge.argument_for(
        Param("style", "Style", "choice", "b", choices=(Choice("a", "A_1"), Choice("b", "B")))
    )  # a string, so that GIMP takes a style installed after it recorded the arguments
    assert (boolean.kind, boolean.name, boolean.label, boolean.default) == (
        "boolean",
        "keep-alpha",
        "Keep__alpha",  # a literal underscore, not a mnemonic
        True,
    )
    assert (text.kind, text.default, text.description, text.choices) == (
        "string",
        "",
        "A title.",
        (),
    )
    assert (choice.kind, choice.default, choice.choices) == (
        "string",
        "b",
        (("a", "A__1"), ("b", "B")),
    )
    assert [bridge.offered_value(choice, value) for value in ("a", "gone", "")] == ["a", "b", "b"]


def test_choice_without_choices_is_a_string_with_nothing_to_offer() -> None:
    argument = bridge.argument_for(Param("style", "Style", "choice", None))
    assert (argument.kind, argument.default, argument.choices) == ("string", "", ())


@pytest.mark.parametrize("name", ["image", "run_mode", "drawables", "_hidden", "2x"])
def test_names_gimp_cannot_take_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=repr(name)):
        bridge.argument_name(name)


def test_stylize_schema_maps_to_arguments_and_back(stylize: Filter) -> None:
    arguments = bridge.arguments_for(stylize)
    assert [(a.kind, a.name) for a in arguments] == [
        ("string", "style"),
        ("double", "strength"),
        ("boolean", "preserve-colors"),
        ("double", "scale"),
        ("int", "max-side"),
    ]
    assert [value for value, _ in arguments[0].choices] == ["starry-night", "the_scream"]
    assert arguments[0].default == "starry-night"
    config = {
        "style": "the_scream",
        "strength": 0.5,
        "preserve-colors": True,
        "scale": 2.0,
        "max-side": 64,
    }
    values = bridge.filter_values(arguments, config.__getitem__)
    assert values == {
        "style": "the_scream",
        "strength": 0.5,
        "preserve_colors": True,
        "scale": 2.0,
        "max_side": 64,
    }
    assert stylize.resolve(values) == values
    assert bridge.menu_label(stylize) == "_Stylize..."


# -- pixels ----------------------------------------------------------------------------------


def test_pixels_from_bytes_checks_the_size() -> None:
    rgba = np.random.default_rng(0).random((3, 5, 4), dtype=np.float32)
    assert np.array_equal(bridge.pixels_from_bytes(rgba.tobytes(), 5, 3), rgba)
    with pytest.raises(ValueError, match="5x3"):
        bridge.pixels_from_bytes(rgba.tobytes()[:-4], 5, 3)


def test_filter_input_rounds_to_8_bits_and_clips() -> None:
    rgba = np.array([[[0.5, -0.2, 1.7, 1.0], [np.nan, 1 / 255, 254.6 / 255, 0.0]]], np.float32)
    assert bridge.filter_input(rgba).tolist() == [[[128, 0, 255], [0, 1, 255]]]


def test_result_keeps_the_drawables_alpha_exactly_and_is_scaled_back() -> None:
    rgba = np.random.default_rng(1).random((6, 8, 4), dtype=np.float32)
    small = Image.new("RGB", (4, 3), (255, 0, 51))
    out = bridge.pixels_from_bytes(bridge.pixels_to_bytes(small, rgba), 8, 6)
    assert np.array_equal(out[..., 3], rgba[..., 3])
    assert np.allclose(out[..., :3], [1.0, 0.0, 0.2], atol=1e-6)


def test_progress_fraction() -> None:
    assert [bridge.progress_fraction(d, t) for d, t in [(0, 4), (1, 4), (5, 4), (1, 0)]] == [
        0.0,
        0.25,
        1.0,
        0.0,
    ]


def test_region_matches_the_filter_on_the_same_image(stylize: Filter, tmp_path: Path) -> None:
    image = rgba_photo(tmp_path / "photo.png")
    width, height = image.size
    seen = []
    data = bridge.stylize_region(
        stylize,
        gegl_bytes(image),
        width,
        height,
        VALUES,
        progress=lambda done, total: seen.append(bridge.progress_fraction(done, total)),
    )
    expected = np.asarray(stylize.apply(image, VALUES))
    assert np.array_equal(as_uint8(data, width, height), expected)
    assert seen and seen[-1] == 1.0


def test_region_with_max_side_comes_back_at_full_size(stylize: Filter, tmp_path: Path) -> None:
    image = rgba_photo(tmp_path / "photo.png")
    width, height = image.size
    data = bridge.stylize_region(stylize, gegl_bytes(image), width, height, {"max_side": 32})
    out = as_uint8(data, width, height)
    assert out.shape == (height, width, 4)
    assert np.array_equal(out[..., 3], np.asarray(image)[..., 3])


# -- bootstrap -------------------------------------------------------------------------------


def test_bootstrap_refuses_another_python_version() -> None:
    bootstrap = load_bootstrap()
    record = {"python_version": "3.11", "python": "/venv/bin/python", "sys_path": []}
    with pytest.raises(bootstrap.BootstrapError, match=r"Python 3\.11 .* runs Python 3\.13"):
        bootstrap.check_version(record, (3, 13, 0))
    bootstrap.check_version(record, (3, 11, 9))


def test_bootstrap_explains_a_missing_or_bad_record(tmp_path: Path) -> None:
    bootstrap = load_bootstrap()
    with pytest.raises(bootstrap.BootstrapError, match="style-plugin install gimp"):
        bootstrap.read_environment(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"sys_path": "nope"}')
    with pytest.raises(bootstrap.BootstrapError, match="not a style-plugin environment"):
        bootstrap.read_environment(tmp_path / "bad.json")


def test_installer_and_bootstrap_agree_on_the_record_file() -> None:
    assert load_bootstrap().ENV_FILE == RECORD_FILE


def test_installed_bootstrap_finds_the_package_from_a_bare_python(tmp_path: Path) -> None:
    """No site-packages (-S), no checkout or PYTHONPATH on the path (-I): as GIMP's Python."""
    gimp_installer.install(InstallOptions(plugin_dir=tmp_path, python=sys.executable))
    folder = tmp_path / gimp_installer.PLUGIN_NAME
    code = "; ".join(
        [
            f"import sys; sys.path.insert(0, {str(folder)!r})",
            "import pathlib, style_plugin_bootstrap as bootstrap",
            f"bootstrap.activate(pathlib.Path({str(folder / RECORD_FILE)!r}))",
            "import numpy, PIL",
            "from style_plugin.hooks.hosts.gimp import bridge",
            "print(bridge.__file__)",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == Path(bridge.__file__)


# -- installer -------------------------------------------------------------------------------


def test_installer_is_the_one_the_cli_dispatches_to() -> None:
    assert installer("gimp") is gimp_installer


def test_install_writes_exactly_the_plugin_files(tmp_path: Path) -> None:
    plugins = tmp_path / "plug-ins"
    lines = gimp_installer.install(InstallOptions(plugin_dir=plugins, python=sys.executable))
    folder = plugins / gimp_installer.PLUGIN_NAME
    assert sorted(p.relative_to(plugins).as_posix() for p in plugins.rglob("*")) == sorted(
        [gimp_installer.PLUGIN_NAME]
        + [f"{gimp_installer.PLUGIN_NAME}/{name}" for name in gimp_installer.INSTALLED_FILES]
    )
    script = folder / f"{gimp_installer.PLUGIN_NAME}.py"
    assert script.read_bytes() == (PLUGIN_SOURCE / script.name).read_bytes()
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert not os.access(folder / "style_plugin_bootstrap.py", os.X_OK)
    record = json.loads((folder / RECORD_FILE).read_text())
    assert record["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert record["python"] == sys.executable
    assert str(Path(bridge.__file__).resolve().parents[3]) in record["sys_path"]
    assert any(Path(p).name == "site-packages" for p in record["sys_path"])
    assert f"wrote {script}" in lines
    assert "Filters > Artistic > Stylize..." in lines[-1]


def test_uninstall_removes_exactly_what_install_wrote(tmp_path: Path) -> None:
    plugins = tmp_path / "plug-ins"
    (plugins / "other-plugin").mkdir(parents=True)
    (plugins / "other-plugin" / "other-plugin.py").write_text("# someone else's\n")
    gimp_installer.install(InstallOptions(plugin_dir=plugins, python=sys.executable))
    gimp_installer.install(InstallOptions(plugin_dir=plugins, python=sys.executable))  # again
    lines = gimp_installer.install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert sorted(p.name for p in plugins.rglob("*")) == ["other-plugin", "other-plugin.py"]
    assert len([line for line in lines if line.startswith("removed ")]) == 4
    again = gimp_installer.install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert again == [
        f"the GIMP plug-in is not installed in {plugins / gimp_installer.PLUGIN_NAME}: nothing to remove"
    ]


def test_uninstall_leaves_files_it_did_not_write(tmp_path: Path) -> None:
    gimp_installer.install(InstallOptions(plugin_dir=tmp_path, python=sys.executable))
    folder = tmp_path / gimp_installer.PLUGIN_NAME
    (folder / "notes.txt").write_text("mine\n")
    lines = gimp_installer.install(InstallOptions(plugin_dir=tmp_path, uninstall=True))
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert lines[-1] == f"left {folder}: it holds files style-plugin did not write"


def test_uninstall_refuses_a_plugin_folder_that_leads_elsewhere(tmp_path: Path) -> None:
    """A plug-in folder that is a symlink out of the plug-ins folder is not ours to empty."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in gimp_installer.INSTALLED_FILES:
        (elsewhere / name).write_text("someone else's\n")
    plugins = tmp_path / "plug-ins"
    plugins.mkdir()
    (plugins / gimp_installer.PLUGIN_NAME).symlink_to(elsewhere)
    lines = gimp_installer.install(InstallOptions(plugin_dir=plugins, uninstall=True))
    folder = plugins / gimp_installer.PLUGIN_NAME
    assert lines == [
        f"refused to remove the files in {folder}: a symbolic link takes it out of {plugins}"
    ]
    assert sorted(p.name for p in elsewhere.iterdir()) == sorted(gimp_installer.INSTALLED_FILES)


def test_other_python_version_gets_its_own_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared rule: the plug-in is written for a venv of GIMP's version beside it; where
    that venv cannot be made (offline here) the error names the commands that finish it."""
    monkeypatch.setenv("STYLE_PLUGIN_OFFLINE", "1")
    host = str(fake_python(tmp_path / "python3", "3.99"))
    plugins = tmp_path / "plug-ins"
    with pytest.raises(StylePluginError) as caught:
        gimp_installer.install(InstallOptions(plugin_dir=plugins, python=host))
    message = str(caught.value)
    venv = plugins / gimp_installer.VENV
    assert "GIMP runs Python 3.99" in message and "STYLE_PLUGIN_OFFLINE" in message
    assert f"  {host} -m venv {venv}\n" in message
    assert f"  {venv}/bin/python -m pip install {REPO}\n" in message
    folder = plugins / gimp_installer.PLUGIN_NAME
    assert sorted(p.name for p in folder.iterdir()) == sorted(gimp_installer.INSTALLED_FILES)
    record = json.loads((folder / RECORD_FILE).read_text())
    assert record["python_version"] == "3.99"
    assert record["python"] == str(venv / "bin" / "python")
    assert record["sys_path"] == [str(venv / "lib" / "python3.99" / "site-packages")]
    venv.mkdir()  # as if the user ran the commands
    lines = gimp_installer.install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert f"removed {venv}" in lines
    assert list(plugins.iterdir()) == []


def test_installing_for_this_python_removes_the_dedicated_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYLE_PLUGIN_OFFLINE", "1")
    plugins = tmp_path / "plug-ins"
    with pytest.raises(StylePluginError, match=r"no Python 3\.99 interpreter was found"):
        gimp_installer.install(InstallOptions(plugin_dir=plugins, python="3.99"))
    (plugins / gimp_installer.VENV).mkdir()  # as if the user ran the commands
    lines = gimp_installer.install(InstallOptions(plugin_dir=plugins, python=HERE))
    assert not (plugins / gimp_installer.VENV).exists()
    assert f"GIMP's Python: {HERE} (--python)" in lines
    assert any("imports style-plugin from this environment" in line for line in lines)


def test_unrunnable_python_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StylePluginError, match="cannot run GIMP's Python"):
        gimp_installer.install(
            InstallOptions(plugin_dir=tmp_path, python=str(tmp_path / "no-python"))
        )


def test_gimp_python_comes_from_gimps_interpreter_file(tmp_path: Path) -> None:
    interpreters = tmp_path / "lib" / "x86_64-linux-gnu" / "gimp" / "3.0" / "interpreters"
    interpreters.mkdir(parents=True)
    (interpreters / "pygimp.interp").write_text(
        "python=/usr/bin/python3\npython3=/usr/bin/python3\n:Python:E::py::python3:\n"
    )
    pattern = (str(tmp_path / "lib" / "*" / "gimp" / "3.0" / "interpreters"),)
    assert gimp_installer.gimp_python(pattern) == "/usr/bin/python3"
    assert gimp_installer.gimp_python(()) == shutil.which("python3")


def test_default_plugin_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GIMP3_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    if sys.platform.startswith("linux"):
        assert gimp_installer.default_plugin_dir() == tmp_path / "config/GIMP/3.0/plug-ins"
    monkeypatch.setenv("GIMP3_DIRECTORY", str(tmp_path / "gimp3"))
    assert gimp_installer.default_plugin_dir() == tmp_path / "gimp3" / "plug-ins"


def test_default_plugin_dir_on_each_platform(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for name in ("GIMP3_DIRECTORY", "XDG_CONFIG_HOME", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    assert gimp_installer.default_plugin_dir("linux") == home / ".config/GIMP/3.0/plug-ins"
    macos = home / "Library/Application Support/GIMP/3.0/plug-ins"
    assert gimp_installer.default_plugin_dir("darwin") == macos
    assert gimp_installer.default_plugin_dir("win32") == home / "AppData/Roaming/GIMP/3.0/plug-ins"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "roaming"))
    assert gimp_installer.default_plugin_dir("linux") == tmp_path / "config/GIMP/3.0/plug-ins"
    assert gimp_installer.default_plugin_dir("win32") == tmp_path / "roaming/GIMP/3.0/plug-ins"
    assert gimp_installer.default_plugin_dir("darwin") == macos


# -- the plug-in script, against a stand-in for GIMP's API (tests/fake_gimp.py) -------------


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


# -- GIMP 3 itself ---------------------------------------------------------------------------

BATCH_SCRIPT = r"""
import json
import shutil
import gi
gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio

settings = json.loads(open(SETTINGS).read())


def run_case(source, target, selection, arguments):
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(source))
    if selection:
        image.select_rectangle(Gimp.ChannelOps.REPLACE, *selection)
    procedure = Gimp.get_pdb().lookup_procedure(settings["procedure"])
    if procedure is None:
        return "the procedure is not registered"
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [image.get_layers()[0]])
    for name, value in {**settings["arguments"], **arguments}.items():
        config.set_property(name, value)
    result = procedure.run(config)
    if result.index(0) != Gimp.PDBStatusType.SUCCESS:
        return f"status {result.index(0)}: {result.index(1) if result.length() > 1 else ''}"
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(target), None)
    image.delete()
    return "ok"


for source, target in settings["installed_later"]:  # GIMP has recorded the procedure
    shutil.copy(source, target)
outcome = {}
for case in settings["cases"]:
    try:
        outcome[case["target"]] = run_case(
            case["source"], case["target"], case["selection"], case.get("arguments", {})
        )
    except Exception as exc:
        outcome[case["target"]] = f"{type(exc).__name__}: {exc}"
open(settings["outcome"], "w").write(json.dumps(outcome))
"""


def run_gimp(
    place: GimpPlace, cases: list[dict], arguments: dict, installed_later: list[tuple[str, str]]
) -> tuple[dict, str]:
    """Run the batch script in gimp-console-3.0 with a private GIMP profile; its outcome
    file and log. The script copies each (source, target) of `installed_later` once GIMP has
    recorded the procedure, before the cases run (a case's own "arguments" override
    `arguments`)."""
    settings = {
        "procedure": bridge.PROCEDURE_NAME,
        "arguments": arguments,
        "cases": cases,
        "installed_later": installed_later,
        "outcome": place.path("outcome.json"),
    }
    log = run_console(place, BATCH_SCRIPT, settings)
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
    procedure runs too."""
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


DIALOG_SCRIPT = (
    DIALOG_OPENING
    + """\
config.set_core_object_array("drawables", [image.get_layers()[0]])
result = procedure.run(config)
outcome = {"status": result.index(0).value_name}
Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(settings["target"]), None)
open(settings["outcome"], "w").write(json.dumps(outcome))
open(settings["filtered"], "w").close()  # the driver now presses Ctrl+Z in the image window
for _ in range(600):
    if os.path.exists(settings["undone"]):
        break
    time.sleep(0.1)
Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(settings["after_undo"]), None)
"""
    + DIALOG_CLOSING
)

# After OK: once the result is saved, Ctrl+Z into the image window; the script saves again
# and quits GIMP. (xdotool's title regex fails on GIMP's non-ASCII titles in the C locale, so
# the image window is found by listing.)
UNDO_DRIVER = """\
for _ in $(seq 240); do [ -e "$W/filtered" ] && break; sleep 0.5; done
image=
for w in $(xdotool search --onlyvisible --name '.' 2>/dev/null); do
    case "$(xdotool getwindowname "$w")" in *'['*']'*) image=$w; break ;; esac  # "[Untitled]-1.0"
done
echo "image window: $(xdotool getwindowname "$image")"
xdotool windowfocus --sync "$image"
xdotool key ctrl+z
sleep 2
touch "$W/undone"
"""


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
        log = run_dialog(place, DIALOG_SCRIPT, settings, "Stylize", then=UNDO_DRIVER)
        assert log.startswith("exit 0") and "dialog: Stylize" in log, log
        outcome = json.loads((place.work / "outcome.json").read_text())
        assert outcome == {"status": "GIMP_PDB_SUCCESS"}, log
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
