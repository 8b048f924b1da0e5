"""What every host installer shares: the environment record and the dedicated environment
(hooks/hosts/environment.py), finding the editor before installing (detection.py), and what
an uninstall may remove (removal.py)."""

from __future__ import annotations

import importlib.metadata
import json
import sys
from pathlib import Path

import pytest

from style_plugin.errors import StylePluginError
from style_plugin.hooks.hosts import InstallOptions, detection, environment
from style_plugin.hooks.hosts.environment import RECORD_FILE
from style_plugin.hooks.hosts.gimp import installer as gimp_installer
from style_plugin.hooks.hosts.krita import installer as krita_installer
from tests.support import (
    PYTHON_VERSION,
    REPO,
    assert_one_line_error,
    fake_python,
    load_bootstrap,
    run_cli,
)

INSTALLERS = {"krita": krita_installer, "gimp": gimp_installer}


def executable(path: Path) -> Path:
    """A tiny stand-in program at `path` (an editor's executable, as far as PATH shows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine with no image editor anywhere the installers look (an empty PATH, no Flatpak
    installations, no Program Files); returns its home folder."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("FLATPAK_SYSTEM_DIR", str(tmp_path / "flatpak-system"))
    monkeypatch.setenv("FLATPAK_USER_DIR", str(tmp_path / "flatpak-user"))
    monkeypatch.setenv("PROGRAMFILES", str(tmp_path / "Program Files"))
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "APPDATA", "GIMP3_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    return home


def files_below(folder: Path) -> list[str]:
    """Every file and folder below `folder`, relative and sorted."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


# -- the environment record and the dedicated environment ----------------------------------


def test_every_host_writes_the_same_record_and_every_plugin_reads_it(tmp_path: Path) -> None:
    gimp_installer.install(InstallOptions(plugin_dir=tmp_path / "plug-ins", python=PYTHON_VERSION))
    krita_installer.install(
        InstallOptions(
            plugin_dir=tmp_path / "pykrita", config_file=tmp_path / "kritarc", python=PYTHON_VERSION
        )
    )
    gimp_record = tmp_path / "plug-ins" / gimp_installer.PLUGIN_NAME / RECORD_FILE
    krita_record = tmp_path / "pykrita" / krita_installer.PLUGIN / RECORD_FILE
    records = [json.loads(path.read_text()) for path in (gimp_record, krita_record)]
    assert "install gimp" in records[0].pop("reinstall")
    assert "install krita" in records[1].pop("reinstall")
    assert records[0] == records[1]
    assert records[0]["python"] == sys.executable and records[0]["python_version"] == PYTHON_VERSION
    # how the plug-ins run style-plugin outside the editor (adding a style trains in it)
    assert records[0]["command"] == [sys.executable, "-m", "style_plugin"]
    bootstrap = load_bootstrap()
    bootstrap.check_version(bootstrap.read_environment(krita_record))


def test_a_python_that_reports_no_version_is_a_clear_error(tmp_path: Path) -> None:
    host = str(fake_python(tmp_path / "python3", "not a version"))
    with pytest.raises(StylePluginError, match="did not report a Python version"):
        gimp_installer.install(InstallOptions(plugin_dir=tmp_path, python=host))
    assert list(tmp_path.iterdir()) == [tmp_path / "python3"]


def test_package_spec_is_this_checkout_else_its_source_else_its_release(tmp_path: Path) -> None:
    assert environment.package_spec() == str(REPO)
    dist_info = tmp_path / "style_plugin-9.9.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: style-plugin\nVersion: 9.9\n")
    distribution = importlib.metadata.PathDistribution(dist_info)
    assert environment.installed_spec(distribution) == "style-plugin==9.9"
    wheel = tmp_path / "wheels" / "style_plugin-9.9-py3-none-any.whl"
    (dist_info / "direct_url.json").write_text(
        json.dumps({"url": wheel.as_uri(), "archive_info": {}})
    )
    assert environment.installed_spec(distribution) == str(wheel)


def test_venv_layout_on_each_platform(tmp_path: Path) -> None:
    venv = tmp_path / "env"
    assert environment.venv_python(venv, "linux") == venv / "bin" / "python"
    assert environment.venv_python(venv, "win32") == venv / "Scripts" / "python.exe"
    assert environment.venv_site_packages(venv, "3.13", "darwin") == (
        venv / "lib" / "python3.13" / "site-packages"
    )
    assert environment.venv_site_packages(venv, "3.13", "win32") == venv / "Lib" / "site-packages"


@pytest.mark.parametrize("host", INSTALLERS)
def test_only_a_real_dedicated_environment_is_removed(host: str, tmp_path: Path) -> None:
    """Reinstalling for this Python and uninstalling remove the venv beside the plug-in, but
    keep what only has its name: a symlink (the tree it leads to survives) or a folder of
    files without pyvenv.cfg."""
    module = INSTALLERS[host]
    plugins = tmp_path / "plugins"
    options = InstallOptions(
        plugin_dir=plugins, config_file=tmp_path / "kritarc", python=PYTHON_VERSION
    )
    module.install(options)
    venv = plugins / module.VENV
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "bin").mkdir(parents=True)
    (elsewhere / "pyvenv.cfg").write_text("home = /usr/bin\n")
    venv.symlink_to(elsewhere)
    for run in (options, InstallOptions(plugin_dir=plugins, uninstall=True)):
        lines = module.install(run)
        assert f"kept {venv}: it is a symbolic link, not the environment an install made" in lines
        assert files_below(elsewhere) == ["bin", "pyvenv.cfg"] and venv.is_symlink()
    venv.unlink()
    module.install(options)
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "notes.txt").write_text("mine\n")
    for run in (options, InstallOptions(plugin_dir=plugins, uninstall=True)):
        lines = module.install(run)
        assert f"kept {venv}: it is not a Python environment (no pyvenv.cfg)" in lines
        assert (venv / "lib" / "notes.txt").read_text() == "mine\n"
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")  # now it is one
    module.install(options)
    assert not venv.exists()


# -- finding the editor before installing --------------------------------------------------


@pytest.mark.parametrize(
    ("host", "label", "looked_for"),
    [
        ("krita", "Krita", ["krita on PATH", "org.kde.krita"]),
        ("gimp", "GIMP 3", ["gimp-3.0, gimp, gimp-console-3.0 on PATH", "org.gimp.GIMP"]),
    ],
)
def test_install_without_the_editor_fails_in_one_line_and_writes_nothing(
    host: str, label: str, looked_for: list[str], bare_machine: Path, tmp_path: Path, capsys
) -> None:
    code, _, err = run_cli(capsys, "install", host)
    advice = "install it first, or pass --plugin-dir DIR to install into a folder anyway"
    assert_one_line_error(code, err, f"{label} was not found (looked for ", *looked_for, advice)
    assert files_below(bare_machine) == []
    code, _, err = run_cli(capsys, "install", host, "--uninstall")  # needs no editor
    assert code == 0, err
    plugins = tmp_path / "explicit"
    where = ["--plugin-dir", plugins, "--config", tmp_path / "kritarc", "--python", PYTHON_VERSION]
    code, out, err = run_cli(capsys, "install", host, *where)  # a named folder needs no editor
    assert code == 0, err
    assert "Restart" in out.splitlines()[-1] and files_below(plugins)
    assert files_below(bare_machine) == []


@pytest.mark.parametrize(
    ("host", "command", "default"),
    [
        ("krita", "krita", ".local/share/krita/pykrita"),
        ("gimp", "gimp-console-3.0", ".config/GIMP/3.0/plug-ins"),
    ],
)
def test_an_editor_on_path_gets_the_plugin_in_its_usual_folder(
    host: str, command: str, default: str, bare_machine: Path, tmp_path: Path, capsys
) -> None:
    executable(tmp_path / "bin" / command)
    code, _, err = run_cli(capsys, "install", host, "--python", PYTHON_VERSION)
    assert code == 0, err
    assert files_below(bare_machine / default)
    code, _, err = run_cli(capsys, "install", host, "--uninstall")
    assert code == 0, err
    assert files_below(bare_machine / default) == []


def test_each_editor_is_found_where_its_packages_put_it(bare_machine: Path, tmp_path: Path) -> None:
    krita, gimp = krita_installer.APP, gimp_installer.APP
    for platform in ("linux", "darwin", "win32"):
        assert detection.find(krita, platform) is None
        assert detection.find(gimp, platform) is None
    flatpak = tmp_path / "flatpak-user" / "app" / "org.kde.krita" / "current"
    flatpak.mkdir(parents=True)
    assert detection.find(krita, "linux") == str(flatpak)
    system = tmp_path / "flatpak-system" / "app" / "org.gimp.GIMP" / "current"
    system.mkdir(parents=True)
    assert detection.find(gimp, "linux") == str(system)
    bundle = bare_machine / "Applications" / "krita.app"
    bundle.mkdir(parents=True)
    assert detection.find(krita, "darwin") == str(bundle)
    program = executable(tmp_path / "Program Files" / "Krita (x64)" / "bin" / "krita.exe")
    assert detection.find(krita, "win32") == str(program)
    per_user = executable(tmp_path / "Local" / "Programs" / "GIMP 3" / "bin" / "gimp-3.0.exe")
    assert detection.find(gimp, "win32") == str(per_user)
    on_path = executable(tmp_path / "bin" / "gimp-3.0")
    assert detection.find(gimp, "darwin") == str(on_path)  # PATH first, on every OS
