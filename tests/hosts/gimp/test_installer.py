"""`style-plugin install gimp`: the files it writes and removes, the environment record, and
the plug-in's bootstrap that finds style-plugin from GIMP's Python."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from style_plugin.errors import StylePluginError
from style_plugin.hooks.hosts import InstallOptions, installer
from style_plugin.hooks.hosts.environment import RECORD_FILE
from style_plugin.hooks.hosts.gimp import bridge
from style_plugin.hooks.hosts.gimp import installer as gimp_installer
from tests.support import REPO, fake_python, load_bootstrap

PLUGIN_SOURCE = gimp_installer.SOURCE_DIR
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"

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


def test_the_plugin_folder_is_the_script_and_every_module_it_imports() -> None:
    """The installer copies each file of the shipped folder, the script last (once the
    modules it imports are there)."""
    procedures = {"stylize_procedure.py", "new_style_procedure.py", "procedure_common.py"}
    imported = {*procedures, "style_plugin_bootstrap.py"}
    assert set(gimp_installer.PLUGIN_FILES) == {p.name for p in PLUGIN_SOURCE.glob("*.py")}
    assert set(gimp_installer.PLUGIN_FILES) == {*imported, gimp_installer.SCRIPT}
    assert gimp_installer.PLUGIN_FILES[-1] == gimp_installer.SCRIPT


def test_install_writes_exactly_the_plugin_files(tmp_path: Path) -> None:
    plugins = tmp_path / "plug-ins"
    lines = gimp_installer.install(InstallOptions(plugin_dir=plugins, python=sys.executable))
    folder = plugins / gimp_installer.PLUGIN_NAME
    assert sorted(p.relative_to(plugins).as_posix() for p in plugins.rglob("*")) == sorted(
        [gimp_installer.PLUGIN_NAME]
        + [f"{gimp_installer.PLUGIN_NAME}/{name}" for name in gimp_installer.INSTALLED_FILES]
    )
    script = folder / f"{gimp_installer.PLUGIN_NAME}.py"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    for name in gimp_installer.PLUGIN_FILES:
        assert (folder / name).read_bytes() == (PLUGIN_SOURCE / name).read_bytes(), name
        assert os.access(folder / name, os.X_OK) == (name == script.name), name
    record = json.loads((folder / RECORD_FILE).read_text())
    assert record["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert record["python"] == sys.executable
    assert str(Path(bridge.__file__).resolve().parents[3]) in record["sys_path"]
    assert any(Path(p).name == "site-packages" for p in record["sys_path"])
    assert f"wrote {script}" in lines
    written = [f"wrote {folder / name}" for name in gimp_installer.INSTALLED_FILES]
    assert [line for line in lines if line.startswith("wrote ")] == written
    assert "Filters > Artistic > Stylize..." in lines[-1]


def test_uninstall_removes_exactly_what_install_wrote(tmp_path: Path) -> None:
    plugins = tmp_path / "plug-ins"
    (plugins / "other-plugin").mkdir(parents=True)
    (plugins / "other-plugin" / "other-plugin.py").write_text("# someone else's\n")
    gimp_installer.install(InstallOptions(plugin_dir=plugins, python=sys.executable))
    gimp_installer.install(InstallOptions(plugin_dir=plugins, python=sys.executable))  # again
    lines = gimp_installer.install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert sorted(p.name for p in plugins.rglob("*")) == ["other-plugin", "other-plugin.py"]
    folder = plugins / gimp_installer.PLUGIN_NAME
    removed = [f"removed {folder / name}" for name in gimp_installer.INSTALLED_FILES]
    assert [line for line in lines if line.startswith("removed ")] == [
        *removed,
        f"removed {folder}",
    ]
    again = gimp_installer.install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert again == [f"the GIMP plug-in is not installed in {folder}: nothing to remove"]


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
