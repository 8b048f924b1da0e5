"""The GIMP tests' fixture: the plug-in script imported against the stand-in GIMP API."""

from __future__ import annotations

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
    """Install the plug-in into a temporary folder and import its script against `FakeGimp`,
    the folder first on sys.path as GIMP starts it; sys.path, sys.dont_write_bytecode and the
    modules of that folder, which the script changes and imports, are put back."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "dont_write_bytecode", sys.dont_write_bytecode)
    gimp_installer.install(InstallOptions(plugin_dir=tmp_path, python=sys.executable))
    folder = tmp_path / gimp_installer.PLUGIN_NAME
    sys.path.insert(0, str(folder))

    def forget_its_modules() -> None:
        for name in gimp_installer.PLUGIN_FILES:
            sys.modules.pop(Path(name).stem, None)

    def load(fake: FakeGimp) -> ModuleType:
        forget_its_modules()  # they import the GIMP API of `fake`
        monkeypatch.setitem(sys.modules, "gi", fake.gi)
        monkeypatch.setitem(sys.modules, "gi.repository", fake.repository)
        script = folder / gimp_installer.SCRIPT
        module = ModuleType("stylize_plugin_script")
        module.__file__ = str(script)
        # Run as Python runs a script (as GIMP starts it): compiled afresh, no bytecode cached.
        exec(compile(script.read_bytes(), script, "exec"), module.__dict__)
        return module

    yield load
    forget_its_modules()
