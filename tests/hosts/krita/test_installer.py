"""The Krita plug-in's installer (hooks/hosts/krita/installer.py): kritarc edited in place,
exactly its files written and removed, a tampered manifest refused, Krita's Python found and
given an environment of its own when it differs, the usual folders on each system; and
`style-plugin install`, which dispatches to each host's installer."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import style_plugin.hooks.hosts
from style_plugin.errors import StylePluginError
from style_plugin.hooks.hosts import InstallOptions, removal
from style_plugin.hooks.hosts.environment import RECORD_FILE
from style_plugin.hooks.hosts.krita import installer, launcher
from style_plugin.hooks.hosts.krita.installer import (
    CONFIG_KEY,
    PLUGIN,
    VENV,
    install,
    set_config_value,
)
from tests.support import PYTHON_VERSION, REPO, run_cli


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (relative path -> content); folders as empty entries."""
    return {
        str(path.relative_to(folder)) + ("/" if path.is_dir() else ""): (
            b"" if path.is_dir() else path.read_bytes()
        )
        for path in sorted(folder.rglob("*"))
    }


# ---------------------------------------------------------------------------------------
# kritarc


def test_config_value_is_set_in_its_group_and_the_rest_is_kept(tmp_path: Path):
    rc = tmp_path / "kritarc"
    rc.write_text("[General]\nfoo=1\n\n[python]\nenable_other=true\n\n[Other]\nx=y\n")
    assert set_config_value(rc, "python", "enable_me", "true")
    assert rc.read_text() == (
        "[General]\nfoo=1\n\n[python]\nenable_other=true\nenable_me=true\n\n[Other]\nx=y\n"
    )
    assert not set_config_value(rc, "python", "enable_me", "true")  # already so
    assert set_config_value(rc, "python", "enable_me", "false")
    assert "enable_me=false\n" in rc.read_text()
    assert set_config_value(rc, "python", "enable_me", None)
    assert rc.read_text() == "[General]\nfoo=1\n\n[python]\nenable_other=true\n\n[Other]\nx=y\n"


def test_config_group_is_added_and_removed_whole(tmp_path: Path):
    rc = tmp_path / "kritarc"
    rc.write_text("[General]\nfoo=1")  # no newline at the end
    set_config_value(rc, "python", "enable_me", "true")
    assert rc.read_text() == "[General]\nfoo=1\n\n[python]\nenable_me=true\n"
    set_config_value(rc, "python", "enable_me", None)
    assert rc.read_text() == "[General]\nfoo=1\n"
    assert not set_config_value(tmp_path / "absent", "python", "enable_me", None)
    assert not (tmp_path / "absent").exists()


# ---------------------------------------------------------------------------------------
# Installer


def expected_files() -> set[str]:
    module = f"{PLUGIN}/"
    return {
        f"{PLUGIN}.desktop",
        module,
        f"{module}__init__.py",
        f"{module}environment.json",
        f"{module}install-manifest.json",
    }


def test_install_writes_exactly_its_files_and_uninstall_removes_them(tmp_path: Path):
    plugins = tmp_path / "pykrita"
    (plugins / "other").mkdir(parents=True)
    (plugins / "other.desktop").write_text("[Desktop Entry]\n")
    (plugins / "other" / "__init__.py").write_text("")
    rc = tmp_path / "kritarc"
    rc.write_text("[General]\nfoo=1\n\n[python]\nenable_other=true\n\n[Other]\nx=y\n")
    before, rc_before = snapshot(plugins), rc.read_bytes()
    options = InstallOptions(plugin_dir=plugins, config_file=rc, python=PYTHON_VERSION)

    lines = install(options)
    assert set(snapshot(plugins)) - set(before) == expected_files()
    assert all(snapshot(plugins)[name] == data for name, data in before.items())
    assert rc.read_text() == rc_before.decode().replace(
        "enable_other=true\n", f"enable_other=true\n{CONFIG_KEY}=true\n"
    )
    environment = json.loads((plugins / PLUGIN / "environment.json").read_text())
    assert environment["python_version"] == PYTHON_VERSION
    assert str(REPO) in environment["sys_path"]
    shipped = REPO / "hooks/hosts/krita/pykrita"
    assert (plugins / f"{PLUGIN}.desktop").read_bytes() == (
        shipped / f"{PLUGIN}.desktop"
    ).read_bytes()
    assert any("enabled it in" in line for line in lines)

    install(options)  # again: the same files, nothing more
    assert set(snapshot(plugins)) - set(before) == expected_files()

    (plugins / PLUGIN / "__pycache__").mkdir()  # what Krita's Python leaves behind
    (plugins / PLUGIN / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"x")
    lines = install(InstallOptions(plugin_dir=plugins, config_file=rc, uninstall=True))
    assert snapshot(plugins) == before
    assert rc.read_bytes() == rc_before
    assert any("removed" in line for line in lines)


def test_uninstall_removes_the_folders_and_kritarc_it_created(tmp_path: Path):
    plugins = tmp_path / "share" / "krita" / "pykrita"
    rc = tmp_path / "config" / "kritarc"
    install(InstallOptions(plugin_dir=plugins, config_file=rc, python=PYTHON_VERSION))
    assert rc.read_text() == f"[python]\n{CONFIG_KEY}=true\n"
    install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert not (tmp_path / "share").exists()
    assert not rc.exists()
    assert install(InstallOptions(plugin_dir=plugins, config_file=rc, uninstall=True)) == [
        f"no style-plugin Krita plug-in is installed in {plugins}"
    ]


@pytest.mark.parametrize("uninstall", [True, False], ids=["uninstall", "reinstall"])
def test_a_tampered_manifest_removes_nothing_outside_the_plugin(tmp_path: Path, uninstall: bool):
    """Entries outside what the installer owns (`..`, absolute, through a symlink, another
    plug-in's file, a folder it did not create, a settings file not named kritarc) are
    refused, one line each, and everything they name is left as it was."""
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    options = InstallOptions(plugin_dir=plugins, config_file=rc, python=PYTHON_VERSION)
    install(options)
    (tmp_path / "victim.txt").write_text("keep\n")
    (tmp_path / "absolute.txt").write_text("keep\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("keep\n")
    (tmp_path / "empty").mkdir()
    (plugins / PLUGIN / "link").symlink_to(tmp_path / "outside")
    (plugins / "other.desktop").write_text("[Desktop Entry]\n")
    settings = tmp_path / "settings.ini"
    settings.write_text(f"[python]\n{CONFIG_KEY}=true\n")
    manifest_file = plugins / PLUGIN / installer.MANIFEST
    manifest = json.loads(manifest_file.read_text())
    bad_files = ["../victim.txt", str(tmp_path / "absolute.txt"), f"{PLUGIN}/link/secret.txt"]
    bad_files += ["other.desktop", f"{PLUGIN}/../../victim.txt", PLUGIN]
    manifest["files"] += bad_files
    manifest["created"].append(str(tmp_path / "empty"))
    manifest.update(config_file=str(settings), config_created=True)
    manifest_file.write_text(json.dumps(manifest))
    before = snapshot(tmp_path)

    lines = install(InstallOptions(plugin_dir=plugins, uninstall=True) if uninstall else options)
    after = snapshot(tmp_path)
    for name in ["victim.txt", "absolute.txt", "outside/secret.txt", "empty/", "settings.ini"]:
        assert after.get(name) == before[name], name
    assert after["pykrita/other.desktop"] == before["pykrita/other.desktop"]
    refused = [line for line in lines if line.startswith("refused ")]
    for entry in [*bad_files, str(tmp_path / "empty"), str(settings)]:
        assert len([line for line in refused if line.startswith(f"refused {entry!r} ")]) == 1
    assert len(refused) == len(bad_files) + 2
    assert all("\n" not in line for line in lines)
    if uninstall:
        assert not (plugins / f"{PLUGIN}.desktop").exists()
        assert sorted(p.name for p in (plugins / PLUGIN).iterdir()) == ["link"]


def test_other_python_offline_prints_the_commands(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("STYLE_PLUGIN_OFFLINE", "1")
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    with pytest.raises(StylePluginError) as error:
        install(InstallOptions(plugin_dir=plugins, config_file=rc, python="3.99"))
    message = str(error.value)
    venv = plugins / VENV
    assert "Krita runs Python 3.99" in message
    assert f"python3.99 -m venv {venv}" in message
    assert f"{venv}/bin/python -m pip install {REPO}" in message
    assert "--no-deps" not in message
    environment = json.loads((plugins / PLUGIN / "environment.json").read_text())
    assert environment["python_version"] == "3.99"
    assert environment["sys_path"] == [str(venv / "lib" / "python3.99" / "site-packages")]
    assert f"{CONFIG_KEY}=true" in rc.read_text()
    venv.mkdir()  # as if the user ran the commands
    install(InstallOptions(plugin_dir=plugins, config_file=rc, uninstall=True))
    assert not plugins.exists() and not rc.exists()


FAKE_PYTHON = """\
#!/bin/sh
# A stand-in "Python 3.99": logs its arguments; `-m venv DIR` makes DIR/bin/python (itself)
# and DIR/pyvenv.cfg, as venv does.
echo "$0 $*" >> "{log}"
case "$1 $2" in
  "-c "*) echo 3.99 ;;
  "-m venv") mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && echo "version = 3.99" > "$3/pyvenv.cfg" ;;
esac
"""


def test_other_python_gets_its_own_environment(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("STYLE_PLUGIN_OFFLINE", raising=False)
    log = tmp_path / "calls.log"
    fake = tmp_path / "python3.99"
    fake.write_text(FAKE_PYTHON.format(log=log))
    fake.chmod(0o755)
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    lines = install(InstallOptions(plugin_dir=plugins, config_file=rc, python=str(fake)))
    venv = plugins / VENV
    calls = log.read_text().splitlines()
    assert calls[0].startswith(f"{fake} -c ")  # its version
    assert calls[1:] == [
        f"{fake} -m venv {venv}",
        f"{venv}/bin/python -m pip install {REPO}",
    ]
    assert f"created a Python 3.99 environment for Krita: {venv}" in lines
    environment = json.loads((plugins / PLUGIN / "environment.json").read_text())
    assert environment["sys_path"] == [str(venv / "lib" / "python3.99" / "site-packages")]
    install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert not plugins.exists()


def test_krita_python_version_is_read_from_its_python_plugin(tmp_path: Path, monkeypatch):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "krita").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "krita").chmod(0o755)
    library = tmp_path / "lib" / "x86_64-linux-gnu" / "kritaplugins" / "kritapykrita.so"
    library.parent.mkdir(parents=True)
    library.write_bytes(b"\x7fELF\0...\0libpython3.13.so.1.0\0libc.so.6\0")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert installer.krita_python_version() == ("3.13", library)
    host, notes = installer.find_host_python()
    assert (host.version, notes) == ("3.13", [])
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    host, notes = installer.find_host_python()
    assert host.version == PYTHON_VERSION and "Pass --python" in notes[0]


def test_default_folders_on_each_platform(tmp_path: Path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "APPDATA", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    macos_plugins = home / "Library/Application Support/krita/pykrita"
    expected = {
        "linux": (home / ".local/share/krita/pykrita", home / ".config/kritarc"),
        "darwin": (macos_plugins, home / "Library/Preferences/kritarc"),
        "win32": (home / "AppData/Roaming/krita/pykrita", home / "AppData/Local/kritarc"),
    }
    for platform, (plugins, rc) in expected.items():
        assert installer.default_plugin_dir(platform) == plugins, platform
        assert installer.default_config_file(platform) == rc, platform
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "APPDATA", "LOCALAPPDATA"):
        monkeypatch.setenv(name, str(tmp_path / name))
    assert installer.default_plugin_dir("linux") == tmp_path / "XDG_DATA_HOME/krita/pykrita"
    assert installer.default_config_file("linux") == tmp_path / "XDG_CONFIG_HOME/kritarc"
    assert installer.default_plugin_dir("win32") == tmp_path / "APPDATA/krita/pykrita"
    assert installer.default_config_file("win32") == tmp_path / "LOCALAPPDATA/kritarc"
    assert installer.default_plugin_dir("darwin") == macos_plugins  # no variables on macOS
    monkeypatch.setenv("XDG_DATA_HOME", "")  # empty counts as unset
    assert installer.default_plugin_dir("linux") == home / ".local/share/krita/pykrita"


def test_installing_for_this_python_removes_the_dedicated_environment(tmp_path: Path):
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    (plugins / VENV / "bin").mkdir(parents=True)  # left by an install for another Python
    lines = install(InstallOptions(plugin_dir=plugins, config_file=rc, python=PYTHON_VERSION))
    assert not (plugins / VENV).exists()
    assert any("imports style-plugin from this environment" in line for line in lines)


# ---------------------------------------------------------------------------------------
# The `krita` launcher in the venv that installs


def test_an_install_from_a_venv_writes_a_krita_launcher_there_and_uninstall_removes_it(
    tmp_path: Path, krita_launcher_dir: Path
):
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    options = InstallOptions(plugin_dir=plugins, config_file=rc, python=PYTHON_VERSION)
    command = krita_launcher_dir / launcher.NAME
    lines = install(options)
    assert command.read_text() == launcher.SCRIPT and command.stat().st_mode & 0o111
    assert any(line.startswith(f"wrote {command}: ") for line in lines)
    install(options)  # again: the same launcher, no line saying it was removed
    assert command.read_text() == launcher.SCRIPT
    lines = install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert f"removed {command}" in lines and not command.exists()


def test_a_krita_command_the_install_did_not_write_is_kept(tmp_path: Path, krita_launcher_dir):
    theirs = '#!/bin/sh\nexec /opt/krita/krita "$@"\n'
    command = krita_launcher_dir / launcher.NAME
    command.parent.mkdir(parents=True)
    command.write_text(theirs)
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    lines = install(InstallOptions(plugin_dir=plugins, config_file=rc, python=PYTHON_VERSION))
    assert any(line.startswith(f"kept {command}: it is not style-plugin's") for line in lines)
    manifest_file = plugins / PLUGIN / installer.MANIFEST
    manifest = json.loads(manifest_file.read_text())
    assert manifest["launcher"] is None
    manifest["launcher"] = str(command)  # as if tampered with
    manifest_file.write_text(json.dumps(manifest))
    lines = install(InstallOptions(plugin_dir=plugins, uninstall=True))
    assert any(line.startswith(f"refused {str(command)!r}") for line in lines)
    assert command.read_text() == theirs


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("relative/bin/krita", "not an absolute path"),
        ("/usr/bin/python3", "not an absolute path to a file named krita"),
        ("/usr/bin/krita", "not in a Python virtual environment's bin folder"),
        (["/x/bin/krita"], "not an absolute path"),
    ],
)
def test_a_manifest_names_no_launcher_but_one_in_a_venv(entry: object, why: str):
    with pytest.raises(removal.Refused, match=why):
        launcher.checked(entry)


def test_the_launcher_starts_krita_without_any_venv_on_path(tmp_path: Path):
    """Run by `sh` with a stand-in `krita` that prints what it was given."""
    venv_bin, other_bin, system = tmp_path / "venv/bin", tmp_path / "other/bin", tmp_path / "usr"
    for folder in (venv_bin, other_bin, system):
        folder.mkdir(parents=True)
    for venv in (venv_bin.parent, other_bin.parent):
        (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    launcher.write(venv_bin)
    stand_in = system / "krita"
    stand_in.write_text(
        '#!/bin/sh\nprintf "%s|" "$PATH" "${VIRTUAL_ENV-}${PYTHONHOME-}" "$#" "$@"\n'
    )
    stand_in.chmod(0o755)
    path = os.pathsep.join([str(venv_bin), str(other_bin), str(system), "/usr/bin", "/bin"])
    env = {"PATH": path, "VIRTUAL_ENV": str(venv_bin.parent), "PYTHONHOME": "/nowhere"}
    done = subprocess.run(
        ["sh", "-c", 'krita "two words" --nosplash'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == f"{system}:/usr/bin:/bin||2|two words|--nosplash|"


def test_the_plugin_module_reads_the_shared_record():
    source = (REPO / "hooks/hosts/krita/pykrita" / PLUGIN / "__init__.py").read_text()
    assert f'with_name("{RECORD_FILE}")' in source and '"python_version"' in source


# ---------------------------------------------------------------------------------------
# style-plugin install


def test_install_command_installs_and_uninstalls_krita(tmp_path: Path, capsys):
    plugins, rc = tmp_path / "pykrita", tmp_path / "kritarc"
    where = ["--plugin-dir", plugins, "--config", rc]
    code, out, err = run_cli(capsys, "install", "krita", *where, "--python", PYTHON_VERSION)
    assert code == 0, err
    assert f"Krita's Python: {PYTHON_VERSION} (--python)" in out
    assert (plugins / f"{PLUGIN}.desktop").is_file()
    code, out, err = run_cli(capsys, "install", "krita", "--uninstall", *where)
    assert code == 0, err
    assert not plugins.exists() and not rc.exists()


def test_install_command_dispatches_to_each_host(tmp_path: Path, capsys, monkeypatch):
    seen = []

    class Recorder:
        @staticmethod
        def install(options: InstallOptions) -> list[str]:
            seen.append(options)
            return ["done"]

    monkeypatch.setattr(
        style_plugin.hooks.hosts, "installer", lambda host: seen.append(host) or Recorder
    )
    for host in ("krita", "gimp"):
        code, out, _ = run_cli(capsys, "install", host, "--plugin-dir", tmp_path, "--uninstall")
        assert (code, out) == (0, "done\n")
    assert seen == [
        "krita",
        InstallOptions(plugin_dir=tmp_path, uninstall=True),
        "gimp",
        InstallOptions(plugin_dir=tmp_path, uninstall=True),
    ]


def test_install_command_names_the_known_hosts(capsys):
    code, _, err = run_cli(capsys, "install", "photoshop")
    assert code == 1
    assert err.startswith("error: unknown host 'photoshop'") and "krita" in err
