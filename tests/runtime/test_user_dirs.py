"""Per-user folders (style_plugin/user_dirs.py): the package's own on each system, the
variables that move them, and the folders the editors keep their files in."""

from __future__ import annotations

from pathlib import Path

import pytest

from style_plugin.user_dirs import (
    EDITOR_CONFIG,
    EDITOR_DATA,
    EDITOR_PREFERENCES,
    user_cache_dir,
    user_models_dir,
    user_runs_dir,
)

#: Every variable the folders are read from.
VARIABLES = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "APPDATA", "LOCALAPPDATA")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of the test's own, with no variable that moves a folder set."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for name in (*VARIABLES, "STYLE_PLUGIN_MODELS_DIR", "STYLE_PLUGIN_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return home


def moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set every variable to a folder named after it."""
    for name in VARIABLES:
        monkeypatch.setenv(name, str(tmp_path / name))


@pytest.mark.parametrize(
    ("platform", "data", "cache"),
    [
        ("linux", ".local/share/style-plugin", ".cache/style-plugin"),
        ("darwin", "Library/Application Support/style-plugin", "Library/Caches/style-plugin"),
        ("win32", "AppData/Local/style-plugin", "AppData/Local/style-plugin"),
    ],
)
def test_the_packages_folders_follow_each_system(platform: str, data: str, cache: str, home):
    assert user_models_dir(platform) == home / data / "models"
    assert user_runs_dir(platform) == home / data / "runs"
    assert user_cache_dir(platform) == home / cache


def test_the_packages_folders_move_with_the_systems_variables(home, tmp_path, monkeypatch):
    moved(tmp_path, monkeypatch)
    assert user_models_dir("linux") == tmp_path / "XDG_DATA_HOME/style-plugin/models"
    assert user_cache_dir("linux") == tmp_path / "XDG_CACHE_HOME/style-plugin"
    assert user_models_dir("win32") == tmp_path / "LOCALAPPDATA/style-plugin/models"
    assert user_cache_dir("win32") == tmp_path / "LOCALAPPDATA/style-plugin"
    monkeypatch.setenv("XDG_DATA_HOME", "")  # empty counts as unset
    monkeypatch.setenv("LOCALAPPDATA", "")
    assert user_models_dir("linux") == home / ".local/share/style-plugin/models"
    assert user_models_dir("win32") == home / "AppData/Local/style-plugin/models"


def test_the_packages_own_variables_move_its_folders_on_every_system(home, tmp_path, monkeypatch):
    monkeypatch.setenv("STYLE_PLUGIN_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("STYLE_PLUGIN_CACHE_DIR", str(tmp_path / "cache"))
    for platform in ("linux", "darwin", "win32"):
        assert user_models_dir(platform) == tmp_path / "models"
        assert user_runs_dir(platform) == tmp_path / "runs"  # beside the models
        assert user_cache_dir(platform) == tmp_path / "cache"
    monkeypatch.setenv("STYLE_PLUGIN_MODELS_DIR", "")  # empty counts as unset
    assert user_models_dir("linux") == home / ".local/share/style-plugin/models"


@pytest.mark.parametrize(
    ("platform", "data", "config", "preferences"),
    [
        ("linux", ".local/share", ".config", ".config"),
        (
            "darwin",
            "Library/Application Support",
            "Library/Application Support",
            "Library/Preferences",
        ),
        ("win32", "AppData/Roaming", "AppData/Roaming", "AppData/Local"),
    ],
)
def test_the_editors_folders_on_each_system(platform, data, config, preferences, home):
    assert EDITOR_DATA.path(platform) == home / data
    assert EDITOR_CONFIG.path(platform) == home / config
    assert EDITOR_PREFERENCES.path(platform) == home / preferences


def test_the_editors_folders_move_with_the_variables_their_system_reads(
    home, tmp_path, monkeypatch
):
    moved(tmp_path, monkeypatch)
    assert EDITOR_DATA.path("linux") == tmp_path / "XDG_DATA_HOME"
    assert EDITOR_CONFIG.path("linux") == tmp_path / "XDG_CONFIG_HOME"
    assert EDITOR_PREFERENCES.path("linux") == tmp_path / "XDG_CONFIG_HOME"
    assert EDITOR_DATA.path("win32") == tmp_path / "APPDATA"
    assert EDITOR_CONFIG.path("win32") == tmp_path / "APPDATA"
    assert EDITOR_PREFERENCES.path("win32") == tmp_path / "LOCALAPPDATA"
    # Qt and GIMP read no XDG variable on macOS
    assert EDITOR_DATA.path("darwin") == home / "Library/Application Support"
    assert EDITOR_PREFERENCES.path("darwin") == home / "Library/Preferences"
    monkeypatch.setenv("APPDATA", "")  # empty counts as unset
    assert EDITOR_DATA.path("win32") == home / "AppData/Roaming"
