"""The GIMP tests' fixture: the plug-in script imported against the stand-in GIMP API."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from style_plugin.hooks.hosts import InstallOptions
from style_plugin.hooks.hosts.gimp import installer as gimp_installer

from tests.hosts.gimp.fake_gimp import FakeGimp


@pytest.fixture
def load_plugin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[[FakeGimp], ModuleType]]:
    """Install the plug-in into a temporary folder and import its script against `FakeGimp`;
    sys.path and sys.dont_write_bytecode, which the script changes, are put back."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "dont_write_bytecode", sys.dont_write_bytecode)
    gimp_installer.install(InstallOptions(plugin_dir=tmp_path, python=sys.executable))
    folder = tmp_path / gimp_installer.PLUGIN_NAME

    def load(fake: FakeGimp) -> ModuleType:
        monkeypatch.setitem(sys.modules, "gi", fake.gi)
        monkeypatch.setitem(sys.modules, "gi.repository", fake.repository)
        script = folder / f"{gimp_installer.PLUGIN_NAME}.py"
        spec = importlib.util.spec_from_file_location("stylize_plugin_script", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    yield load
    sys.modules.pop("style_plugin_bootstrap", None)
