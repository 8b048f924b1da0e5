"""The plugin system (style_plugin/plugins.py): style packs and their styles, filters and
commands found through entry points; broken plugins reported by name and skipped. What a
filter is: test_filters.py; the built-in Stylize filter: test_stylize_filter.py.

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
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import style_plugin
from style_plugin import hookimpl
from tests.support import (
    PACK_NAME,
    PACK_STYLES,
    bundled_styles,
    leftovers,
    make_photo,
    run_cli,
)

BUNDLED_STYLES = [info.name for info in bundled_styles()]

BROKEN_PLUGINS = {
    "broken_import": "import a_module_that_is_not_installed  # noqa: F401\n",
    "broken_hook": """
from style_plugin import hookimpl


@hookimpl
def register_styles(register):
    raise RuntimeError("the pack lost its models")


@hookimpl
def register_commands(cli):
    raise RuntimeError("no commands today")
""",
    "bad_style_file": """
from pathlib import Path

from style_plugin import hookimpl


@hookimpl
def register_styles(register):
    register(Path(__file__).with_name("bad_style_file_notes.onnx"))
""",
    "broken_filter": """
from style_plugin import hookimpl
from style_plugin.hooks.filters import Filter


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


def install_plugins(site: Path, plugins: dict[str, str]) -> Path:
    """Write each plugin module into `site` with the dist-info that makes it an installed
    `style_plugin` entry point (what pip would leave)."""
    for name, code in plugins.items():
        (site / f"{name}.py").write_text(code)
        info = site / f"{name}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[style_plugin]\n{name} = {name}\n")
    return site


@pytest.fixture(scope="session")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of installed plugins that fail: on import, in a hook, with a style file that
    is not a model, with a filter whose schema raises."""
    site = install_plugins(tmp_path_factory.mktemp("broken-site"), BROKEN_PLUGINS)
    (site / "bad_style_file_notes.onnx").write_text("notes, not a style model")
    return site


HOSTILE_PLUGINS = {
    "exits_at_import": "import sys\n\nsys.exit(3)\n",
    "takes_stylize": """
from style_plugin import hookimpl


@hookimpl
def register_commands(cli):
    @cli.command("hostile-extra")
    def extra():
        print("added beside a hijack")

    @cli.command("stylize")
    def stylize():
        print("hijacked")
""",
    "registers_then_raises": """
from pathlib import Path

from style_plugin import hookimpl


@hookimpl
def register_styles(register):
    register(Path(__file__).with_name("registers_then_raises.onnx"))
    raise RuntimeError("lost the rest of its models")
""",
}


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory: pytest.TempPathFactory, style_model: Path) -> Path:
    """Plugins that exit at import, try to replace a built-in command, or register a real
    model and then fail."""
    site = install_plugins(tmp_path_factory.mktemp("hostile-site"), HOSTILE_PLUGINS)
    shutil.copy(style_model, site / "registers_then_raises.onnx")
    return site


def test_a_plugin_exiting_or_failing_half_way_changes_nothing(hostile_site, pack_site):
    result = cli("models", "--json", sites=(pack_site, hostile_site))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    broken = {plugin["name"]: plugin for plugin in document["broken_plugins"]}
    assert broken["exits_at_import"]["stage"] == "import"
    assert "SystemExit" in broken["exits_at_import"]["reason"]
    assert broken["registers_then_raises"]["stage"] == "register_styles"
    sources = {style["source"] for style in document["styles"]}
    assert "registers_then_raises" not in sources  # what it registered was rolled back
    assert PACK_NAME in sources


def test_a_plugin_cannot_replace_a_command(hostile_site):
    result = cli("stylize", "--help", sites=(hostile_site,))
    assert result.returncode == 0, result.stderr
    assert "--strength" in result.stdout and "hijacked" not in result.stdout
    assert "takes_stylize" in result.stderr and "'stylize' already exists" in result.stderr
    added = cli("hostile-extra", sites=(hostile_site,))  # all of its commands, or none
    assert added.returncode != 0 and "added beside" not in added.stdout


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
    cheap = "pluggy" if module == "style_plugin" else "style_plugin.hooks"
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


def test_the_package_lists_its_lazy_api_without_importing_it():
    """`dir()` (and so tab completion) offers what `import style_plugin` gives on first use."""
    code = (
        "import sys, style_plugin, style_plugin.distributed as distributed\n"
        "print(' '.join(dir(style_plugin)))\n"
        "print(' '.join(dir(distributed)))\n"
        "print(' '.join(m for m in sys.modules if m.startswith(('style_plugin.runtime', 'ray'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    package, distributed, imported = (line.split() for line in result.stdout.splitlines())
    assert set(style_plugin.__all__) <= set(package)
    assert {"stylize", "Stylizer", "load_model", "__version__"} <= set(package)
    assert {"stylize_dataset", "run_batch_on_ray", "PortableJob"} <= set(distributed)
    assert imported == []  # listed, not loaded


def test_ctrl_c_in_a_plugin_hook_says_interrupted(capsys):
    """As at a plugin's import: the program stops with 'interrupted', not silently."""
    from style_plugin import plugins

    class Interrupted:
        @hookimpl
        def register_styles(self) -> None:
            raise KeyboardInterrupt

    plugins.reload_plugins()
    try:
        plugins.plugin_manager().register(Interrupted(), name="interrupted")
        code, out, err = run_cli(capsys, "models")
    finally:
        plugins.reload_plugins()
    assert (code, out, err) == (130, "", "interrupted\n")


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
