"""The distribution as a packager and a user get it, proven from outside the checkout.

`make test` builds the wheel and sdist into build/dist and installs the wheel alone, with
no extras, into a fresh environment (STYLE_PLUGIN_WHEEL_ENV); that install step is where
the network is used, as for every install. Here: what the wheel holds, its metadata, and
that the installed command stylizes without torch, from a folder far from the checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib
from PIL import Image

from tests.support import REPO, make_photo

pytestmark = pytest.mark.package

ENV = os.environ.get("STYLE_PLUGIN_WHEEL_ENV")
DIST = REPO / "build" / "dist"
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PROJECT["project"]["version"]
#: The repository's package folders and the names they install as.
FOLDERS = PROJECT["tool"]["setuptools"]["package-dir"]


@pytest.fixture(scope="module")
def wheel_env() -> Path:
    """The fresh environment holding the wheel alone (made by `make test`)."""
    if not ENV:
        pytest.skip("run by `make test`, which builds the wheel and installs it alone")
    return (REPO / ENV).resolve()


@pytest.fixture(scope="module")
def wheel(wheel_env: Path) -> zipfile.ZipFile:
    (path,) = DIST.glob("*.whl")
    return zipfile.ZipFile(path)


def installed_command(wheel_env: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`style-plugin ARGS` of the fresh environment, with nothing of this one inherited."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "STYLE_PLUGIN_OFFLINE": "1"}
    command = [str(wheel_env / "bin" / "style-plugin"), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env)


def test_the_wheels_only_top_level_name_is_style_plugin(wheel):
    names = wheel.namelist()
    (top_level,) = [name for name in names if name.endswith(".dist-info/top_level.txt")]
    assert wheel.read(top_level).decode().split() == ["style_plugin"]
    assert {name.split("/")[0] for name in names} == {
        "style_plugin",
        f"style_plugin-{VERSION}.dist-info",
    }


def test_every_source_module_is_in_the_wheel_and_nothing_else_of_the_repository(wheel):
    """The explicit package list in pyproject.toml misses no folder, and tests, benchmarks,
    recipes and docs stay out."""
    names = set(wheel.namelist())
    expected = set()
    for package, folder in FOLDERS.items():
        for path in (REPO / folder).rglob("*.py"):
            relative = path.relative_to(REPO / folder).as_posix()
            expected.add(f"{package.replace('.', '/')}/{relative}")
    assert expected - names == set()
    for folder in ("tests", "benchmarks", "recipes", "docs"):
        assert not [name for name in names if f"/{folder}/" in f"/{name}"], folder


def test_the_bundled_model_and_the_editor_plug_ins_are_inside(wheel):
    names = set(wheel.namelist())
    assert "style_plugin/data/models/default.onnx" in names
    assert "style_plugin/data/CREDITS.md" in names
    gimp = "style_plugin/hooks/hosts/gimp/style-plugin-stylize/"
    assert f"{gimp}style-plugin-stylize.py" in names
    krita = "style_plugin/hooks/hosts/krita/pykrita/"
    assert {f"{krita}style_plugin_krita.desktop", f"{krita}style_plugin_krita/__init__.py"} <= names


def test_the_builtin_plugin_is_an_entry_point(wheel):
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[style_plugin]\nstyle-plugin = style_plugin.hooks.builtin" in text


def test_wheel_and_sdist_pass_the_metadata_check(wheel):
    files = sorted(str(path) for path in DIST.iterdir())
    assert sorted(Path(f).suffix for f in files) == [".gz", ".whl"]
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_installed_version_is_the_metadata_version(wheel_env, tmp_path):
    result = installed_command(wheel_env, "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"style-plugin {VERSION}"


def test_the_installed_command_stylizes_without_torch(wheel_env, tmp_path):
    python = str(wheel_env / "bin" / "python")
    no_torch = subprocess.run(
        [python, "-c", "import importlib.util as u; print(u.find_spec('torch'))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert no_torch.stdout.strip() == "None", "torch is installed without the train extra"
    photo = make_photo(tmp_path / "photo.png", 64, 48)
    result = installed_command(
        wheel_env,
        "stylize",
        str(photo),
        "--style",
        "starry-night",
        "-o",
        "out.png",
        "-q",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "out.png") as image:
        assert image.size == (64, 48)


def test_the_installed_package_is_imported_from_the_environment(wheel_env, tmp_path):
    code = (
        "import style_plugin.hooks.builtin as b, style_plugin as s; print(s.__file__, b.__file__)"
    )
    result = subprocess.run(
        [str(wheel_env / "bin" / "python"), "-I", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    for path in result.stdout.split():
        assert Path(path).is_relative_to(wheel_env), path
