"""The plugin contract: filters and their parameter schema, style packs, broken plugins.

The example style pack (tests/fixtures/style-pack) gets a freshly exported model and is
pip-installed offline into a folder of its own; broken plugins are written into another
folder as an installer leaves them (a module and a dist-info with its entry point). The CLI
runs in a subprocess with those folders on PYTHONPATH, so plugins are found through their
`style_plugin` entry points, as a user's installed packages are. Each folder is built once
per session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hooks import hookimpl
from hooks.filters import Choice, Filter, FilterError, Param
from hooks.stylize_filter import StylizeFilter
from style_plugin.errors import Cancelled
from style_plugin.runtime.model import load_model
from style_plugin.runtime.stylizer import Stylizer
from tests.cli import assert_one_line_error, run_cli
from tests.helpers import bundled_styles
from tests.style_pack import PACK_NAME, PACK_STYLES
from tests.synthetic import make_photo
from tests.test_stylize_cli import leftovers

BUNDLED_STYLES = [info.name for info in bundled_styles()]

BROKEN_PLUGINS = {
    "broken_import": "import a_module_that_is_not_installed  # noqa: F401\n",
    "broken_hook": """
from hooks import hookimpl


@hookimpl
def register_styles(register):
    raise RuntimeError("the pack lost its models")


@hookimpl
def register_commands(cli):
    raise RuntimeError("no commands today")
""",
    "bad_style_file": """
from pathlib import Path

from hooks import hookimpl


@hookimpl
def register_styles(register):
    register(Path(__file__).with_name("bad_style_file_notes.onnx"))
""",
    "broken_filter": """
from hooks import hookimpl
from hooks.filters import Filter


class Broken(Filter):
    name = "broken"
    label = "Broken"
    description = "Its parameter schema cannot be built."

    def params(self):
        raise KeyError("levels")

    def run(self, image, params, progress, cancel):
        return image


@hookimpl
def register_filters(register):
    register(Broken())
""",
}


# --------------------------------------------------------------------------------------------
# Installed plugins, found through entry points


@pytest.fixture(scope="session")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of installed plugins that fail: on import, in a hook, with a style file that
    is not a model, with a filter whose schema raises."""
    site = tmp_path_factory.mktemp("broken-site")
    for name, code in BROKEN_PLUGINS.items():
        (site / f"{name}.py").write_text(code)
        info = site / f"{name}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[style_plugin]\n{name} = {name}\n")
    (site / "bad_style_file_notes.onnx").write_text("notes, not a style model")
    return site


def cli(*args: object, sites: tuple[Path, ...] = ()) -> subprocess.CompletedProcess[str]:
    """`style-plugin ARGS` in a fresh interpreter that sees the plugins installed in `sites`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, sites))}
    return subprocess.run(
        [sys.executable, "-m", "style_plugin", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_pack_styles_are_listed_by_models(pack_site):
    result = cli("models", "--json", sites=(pack_site,))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    styles = {s["name"]: s for s in document["styles"]}
    assert list(styles) == [*BUNDLED_STYLES, *PACK_STYLES]
    for name, label in PACK_STYLES.items():
        assert styles[name]["label"] == label
        assert styles[name]["source"] == PACK_NAME
        assert Path(styles[name]["model"]).is_relative_to(pack_site)
    assert document["broken"] == [] and document["broken_plugins"] == []


def test_stylize_uses_a_pack_style(pack_site, tmp_path):
    photo = make_photo(tmp_path / "photo.png", 64, 48)
    result = cli(
        "stylize", photo, "--style", "sumi-e", "-o", tmp_path / "out.png", sites=(pack_site,)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stylized 1 image")
    assert f"model: {pack_site}" in result.stderr
    with Image.open(tmp_path / "out.png") as image:
        assert image.size == (64, 48)


def test_filters_show_the_pack_styles_and_its_filter(pack_site):
    result = cli("filters", "--json", sites=(pack_site,))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    found = {f["name"]: f for f in document["filters"]}
    assert found["posterize"]["plugin"] == PACK_NAME
    (levels,) = found["posterize"]["params"]
    schema = {"type": "int", "default": 4, "minimum": 2, "maximum": 64, "step": 1}
    assert {key: levels[key] for key in schema} == schema
    style = found["stylize"]["params"][0]
    assert style["name"] == "style" and style["type"] == "choice"
    choices = {c["value"]: c["label"] for c in style["choices"]}
    assert list(choices) == [*BUNDLED_STYLES, *PACK_STYLES]
    assert {name: choices[name] for name in PACK_STYLES} == PACK_STYLES
    assert document["broken_plugins"] == []


def test_a_third_party_filter_runs_as_a_batch(pack_site, tmp_path):
    folder = tmp_path / "in"
    for i in range(3):
        make_photo(folder / f"p{i}.png", 40, 32, seed=i)
    (folder / "broken.png").write_bytes(b"not an image")
    rgba = np.random.default_rng(0).integers(0, 256, (24, 30, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(folder / "alpha.png")
    out = tmp_path / "out"
    args = ("filter", "posterize", folder, "--param", "levels=4", "-o", out, "-q")
    result = cli(*args, sites=(pack_site,))
    assert result.returncode == 1  # the broken file; the rest are written
    assert f"failed: {folder / 'broken.png'}: is not an image" in result.stderr
    assert result.stdout.startswith("filtered 4 images in") and "failed 1" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["alpha.png", "p0.png", "p1.png", "p2.png"]
    for path in out.iterdir():
        pixels = np.asarray(Image.open(path))
        assert set(np.unique(pixels[..., :3])) <= {0, 85, 170, 255}
    assert np.array_equal(np.asarray(Image.open(out / "alpha.png"))[..., 3], rgba[..., 3])
    assert leftovers(tmp_path) == []


def test_a_plugin_command_is_added(pack_site):
    result = cli("example-pack", sites=(pack_site,))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(pack_site / PACK_NAME / "models" / "ukiyo-e.onnx")


@pytest.mark.parametrize(
    "api",
    ["style_plugin", "style_plugin.runtime.stylizer", "style_plugin.runtime.stylizer.Stylizer()"],
)
def test_python_api_finds_pack_styles_and_import_stays_cheap(api, pack_site, broken_site, tmp_path):
    """One behaviour whichever path the API is imported by: pack styles are found. Importing
    the package loads nothing of the plugin system; plugins load on the first style lookup."""
    photo = make_photo(tmp_path / "photo.png", 32, 24)
    module = api.removesuffix(".Stylizer()")
    cheap = "pluggy" if module == "style_plugin" else "hooks"
    code = (
        f"import sys, {module}\n"
        f"assert {cheap!r} not in sys.modules\n"
        f"print({api}.stylize(sys.argv[1], style='ukiyo-e').size)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, (pack_site, broken_site)))}
    result = subprocess.run(
        [sys.executable, "-c", code, str(photo)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(32, 24)"


def test_hook_implementations_may_take_fewer_arguments_than_the_spec():
    """Arguments are passed by name, as pluggy does: an implementation may leave some out."""
    from style_plugin import plugins

    called = []

    class Quiet:
        @hookimpl
        def register_styles(self) -> None:
            called.append("register_styles")

    plugins.reload_plugins()
    try:
        plugins.plugin_manager().register(Quiet(), name="quiet")
        assert not [b for b in plugins.broken_plugins() if b.name == "quiet"]
        assert called == ["register_styles"]
    finally:
        plugins.reload_plugins()


# --------------------------------------------------------------------------------------------
# Broken plugins are reported by name and skipped; everything else keeps working


def test_models_reports_broken_plugins_and_lists_the_rest(pack_site, broken_site):
    result = cli("models", sites=(pack_site, broken_site))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in PACK_STYLES:
        (row,) = [line for line in out.splitlines() if line.startswith(name + " ")]
        assert PACK_NAME in row
    assert "broken model files (1, skipped):" in out
    assert "bad_style_file_notes.onnx (bad_style_file): " in out
    assert "broken plugins (2, skipped):" in out
    assert "  broken_import (import): ModuleNotFoundError: No module named" in out
    assert "  broken_hook (register_styles): RuntimeError: the pack lost its models" in out
    assert result.stderr.strip() == (
        "warning: plugin 'broken_hook' skipped (register_commands): RuntimeError: no commands today"
    )


def test_models_json_names_the_broken_plugins(pack_site, broken_site):
    result = cli("models", "--json", sites=(pack_site, broken_site))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [s["name"] for s in document["styles"]] == [*BUNDLED_STYLES, *PACK_STYLES]
    assert [(b["source"], Path(b["model"]).name) for b in document["broken"]] == [
        ("bad_style_file", "bad_style_file_notes.onnx")
    ]
    assert [(p["name"], p["stage"]) for p in document["broken_plugins"]] == [
        ("broken_import", "import"),
        ("broken_hook", "register_styles"),
    ]


def test_doctor_names_the_plugins_and_checks_with_a_pack_model(pack_site, broken_site):
    result = cli("doctor", sites=(pack_site, broken_site))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    (plugins,) = [line for line in lines if line.startswith("plugins ")]
    assert plugins.split(None, 1)[1] == (
        "bad_style_file, broken_filter, broken_hook, example_style_pack; "
        "2 skipped (see `style-plugin models`)"
    )
    (cuda,) = [line for line in lines if line.startswith("CUDA ")]
    assert "none is installed" not in cuda


def test_stylize_warns_about_broken_plugins_and_works(pack_site, broken_site, tmp_path):
    photo = make_photo(tmp_path / "photo.png", 48, 40)
    args = ("stylize", photo, "--style", "ukiyo-e", "-o", tmp_path / "out.png")
    result = cli(*args, sites=(pack_site, broken_site))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert [line.split("'")[1] for line in warnings] == [
        "broken_hook",  # its register_commands, when the CLI starts
        "broken_import",
        "broken_hook",  # its register_styles
    ]
    assert (tmp_path / "out.png").is_file()


def test_filters_list_the_working_filters_and_the_broken_one(pack_site, broken_site, tmp_path):
    result = cli("filters", sites=(pack_site, broken_site))
    assert result.returncode == 0, result.stderr
    assert "posterize - Posterize (from example_style_pack)" in result.stdout
    assert "stylize - Stylize (from style-plugin)" in result.stdout
    assert "ukiyo-e (Ukiyo-e), sumi-e (Sumi-e ink)" in result.stdout
    assert "broken plugins (3, skipped):" in result.stdout
    assert "  broken_filter (filter 'broken'): KeyError: 'levels'" in result.stdout
    photo = make_photo(tmp_path / "photo.png", 24, 24)
    result = cli("filter", "broken", photo, "-q", sites=(pack_site, broken_site))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "error: filter 'broken' is broken: KeyError: 'levels'"
    result = cli("filter", "posterize", photo, "-q", sites=(pack_site, broken_site))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "photo-posterize.png").is_file()


# --------------------------------------------------------------------------------------------
# hooks/filters.py: the schema a host renders, and apply / preview


class Recorder(Filter):
    """A filter that gives its input back and records what it was called with."""

    name = "recorder"
    label = "Recorder"
    description = "Gives the image back."

    def __init__(self) -> None:
        self.calls: list[tuple[Image.Image | np.ndarray, dict, bool | None]] = []

    def params(self) -> list[Param]:
        return [
            Param("amount", "Amount", "float", 0.5, minimum=0.0, maximum=1.0, step=0.1),
            Param("count", "Count", "int", 3, minimum=1),
            Param("mode", "Mode", "choice", "soft", choices=(Choice("soft", "Soft"),)),
            Param("invert", "Invert", "bool", False),
            Param("title", "Title", "string", ""),
        ]

    def run(self, image, params, progress, cancel):
        self.calls.append((image, params, cancel() if cancel else None))
        return image if isinstance(image, Image.Image) else Image.fromarray(image)


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("amount", "0.25", 0.25),
        ("amount", 1, 1.0),
        ("count", "7", 7),
        ("count", "4.0", 4),
        ("invert", "yes", True),
        ("invert", "off", False),
        ("invert", True, True),
        ("mode", "soft", "soft"),
        ("title", 12, "12"),
    ],
)
def test_coerce_converts_values_and_command_line_text(name, given, expected):
    (param,) = [p for p in Recorder().params() if p.name == name]
    value = param.coerce(given)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "given", "needle"),
    [
        ("amount", "much", "takes a float"),
        ("amount", "nan", "takes a float"),
        ("amount", True, "takes a float"),
        ("count", "2.5", "takes a"),
        ("invert", "maybe", "takes a bool"),
        ("amount", "1.5", "must be between 0 and 1"),
        ("count", "0", "must be at least 1"),
        ("mode", "hard", "must be one of soft"),
    ],
)
def test_coerce_rejects_wrong_types_ranges_and_choices(name, given, needle):
    (param,) = [p for p in Recorder().params() if p.name == name]
    with pytest.raises(FilterError, match=needle):
        param.coerce(given)


def test_param_type_must_be_one_hosts_render():
    with pytest.raises(ValueError, match="type must be one of"):
        Param("colour", "Colour", "rgb", "#fff")


def test_resolve_fills_defaults_and_rejects_unknown_names():
    recorder = Recorder()
    assert recorder.resolve({"count": "5"}) == {
        "amount": 0.5,
        "count": 5,
        "mode": "soft",
        "invert": False,
        "title": "",
    }
    with pytest.raises(FilterError, match="no parameter 'colour'; its parameters: amount, count"):
        recorder.resolve({"colour": "red"})


def test_describe_is_plain_json():
    description = Recorder().describe()
    assert json.loads(json.dumps(description)) == description
    assert [p["name"] for p in description["params"]] == [
        "amount",
        "count",
        "mode",
        "invert",
        "title",
    ]
    amount, count, mode, invert, _ = description["params"]
    assert (amount["minimum"], amount["maximum"], amount["step"]) == (0.0, 1.0, 0.1)
    assert "maximum" not in count
    assert mode["choices"] == [{"value": "soft", "label": "Soft"}]
    assert "choices" not in invert


def test_apply_takes_arrays_and_an_event_to_cancel():
    recorder = Recorder()
    array = np.zeros((6, 8, 3), dtype=np.uint8)
    cancel = threading.Event()
    recorder.apply(array, {"amount": "0.1"}, cancel=cancel)
    cancel.set()
    recorder.apply(array, cancel=cancel)
    (first, params, stop_first), (_, _, stop_second) = recorder.calls
    assert first is array and params["amount"] == 0.1
    assert (stop_first, stop_second) == (False, True)


def test_preview_scales_down_first():
    recorder = Recorder()
    recorder.preview(Image.new("RGB", (1000, 400)), max_side=100)
    recorder.preview(np.zeros((300, 60, 3), dtype=np.uint8), max_side=150)
    recorder.preview(Image.new("RGB", (40, 30)))
    assert [call[0].size for call in recorder.calls] == [(100, 40), (30, 150), (40, 30)]


# --------------------------------------------------------------------------------------------
# The Stylize filter


@pytest.fixture
def installed(style_model, user_models_dir) -> Path:
    """The two-style test model installed in the (per-test) user model folder."""
    user_models_dir.mkdir(parents=True)
    return Path(shutil.copy(style_model, user_models_dir / "two.onnx"))


def test_stylize_filter_schema_offers_the_installed_styles(installed):
    style, strength, preserve, max_side = StylizeFilter(device="cpu").params()
    labels = [(s.name, s.label) for s in load_model(installed, device="cpu").styles]
    assert [(c.value, c.label) for c in style.choices] == labels
    assert style.type == "choice" and style.default == labels[0][0]
    assert strength == Param(
        "strength", strength.label, "float", 1.0, strength.description, 0.0, 1.0, 0.05
    )
    rest = [(param.name, param.type) for param in (preserve, max_side)]
    assert rest == [("preserve_colors", "bool"), ("max_side", "int")]


def test_stylize_filter_matches_the_stylizer_and_can_be_cancelled(installed, tmp_path):
    photo = make_photo(tmp_path / "photo.png", 40, 32)
    stylize = StylizeFilter(device="cpu")
    result = stylize.apply(Image.open(photo), {"style": "the_scream", "strength": "0.5"})
    expected = Stylizer(installed, device="cpu").stylize(photo, "the_scream", strength=0.5)
    assert np.array_equal(np.asarray(result), np.asarray(expected))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        stylize.apply(Image.open(photo), cancel=cancel)


# --------------------------------------------------------------------------------------------
# `filters` and `filter` in this process (the built-in Stylize filter)


def test_filters_lists_the_stylize_filter(installed, capsys):
    code, out, _ = run_cli(capsys, "filters", "--json")
    assert code == 0
    document = json.loads(out)
    (stylize,) = [f for f in document["filters"] if f["name"] == "stylize"]
    assert stylize["plugin"] == "style-plugin" and stylize["label"] == "Stylize"
    names = [c["value"] for c in stylize["params"][0]["choices"]]
    assert names == ["starry-night", "the_scream"]
    code, out, _ = run_cli(capsys, "filters")
    assert code == 0
    assert "stylize - Stylize (from style-plugin)" in out
    assert "strength=FLOAT          0..1, default 1.0; " in out


def test_filter_stylize_gives_what_stylize_gives(installed, tmp_path, capsys):
    photo = make_photo(tmp_path / "photo.png", 56, 40)
    args = ("--param", "style=the_scream", "-p", "strength=0.7", "-p", "preserve_colors=yes")
    code, out, _ = run_cli(capsys, "filter", "stylize", photo, *args, "-q")
    assert code == 0 and out.startswith("filtered 1 image in")
    options = ("--style", "the_scream", "--strength", "0.7", "--preserve-colors", "-q")
    code, _, _ = run_cli(capsys, "stylize", photo, *options)
    assert code == 0
    filtered = np.asarray(Image.open(tmp_path / "photo-stylize.png"))
    stylized = np.asarray(Image.open(tmp_path / "photo-stylized.png"))
    assert np.array_equal(filtered, stylized)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["stylize", "--param", "colour=red"], ["no parameter 'colour'", "strength"]),
        (["stylize", "--param", "strength=lots"], ["'strength' takes a float"]),
        (["stylize", "--param", "strength=2"], ["'strength' must be between 0 and 1"]),
        (["stylize", "--param", "style=nope"], ["'style' must be one of starry-night"]),
        (["stylize", "--param", "strength"], ["--param takes KEY=VALUE"]),
        (["stylize", "-p", "strength=1", "-p", "strength=0"], ["--param strength is given twice"]),
        (["sharpen"], ["unknown filter 'sharpen'", "stylize"]),
    ],
)
def test_filter_parameter_errors_touch_no_file(installed, tmp_path, capsys, args, needles):
    photo = make_photo(tmp_path / "in" / "photo.png", 24, 24)
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "filter", args[0], photo, *args[1:], "-o", f"{out}/")
    assert_one_line_error(code, err, *needles)
    assert code == 1
    assert not out.exists() and [p.name for p in photo.parent.iterdir()] == ["photo.png"]
