"""Shared helpers of the host tests: stand-in interpreters and the GIMP plug-in's bootstrap."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from hooks.hosts.gimp import installer as gimp_installer


def load_bootstrap() -> ModuleType:
    """The plug-in folder's bootstrap module, imported from its file (it is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "style_plugin_bootstrap", gimp_installer.SOURCE_DIR / "style_plugin_bootstrap.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_python(path: Path, version: str) -> Path:
    """An 'interpreter' that answers the installer's version question with `version`."""
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path
