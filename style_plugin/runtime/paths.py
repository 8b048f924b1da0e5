"""Where this package keeps per-user files: the user's style models and caches.

Follows each platform's convention (XDG on Linux, Application Support on macOS, APPDATA on
Windows); `STYLE_PLUGIN_MODELS_DIR` and `STYLE_PLUGIN_CACHE_DIR` override them (tests, hosts).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["user_cache_dir", "user_models_dir", "user_runs_dir"]

_APP = "style-plugin"


def _base(xdg_variable: str, xdg_default: str, mac_folder: str) -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA") or Path.home())
    if sys.platform == "darwin":
        return Path.home() / "Library" / mac_folder
    return Path(os.environ.get(xdg_variable) or Path.home() / xdg_default)


def user_models_dir() -> Path:
    """The folder whose .onnx files `style-plugin models` lists as the user's own styles."""
    override = os.environ.get("STYLE_PLUGIN_MODELS_DIR")
    if override:
        return Path(override)
    return _base("XDG_DATA_HOME", ".local/share", "Application Support") / _APP / "models"


def user_runs_dir() -> Path:
    """Training runs of the styles a user added (`add-style`), beside the model folder: their
    checkpoints let a cancelled one go on."""
    return user_models_dir().parent / "runs"


def user_cache_dir() -> Path:
    """A folder for things that can be rebuilt (TensorRT engines)."""
    override = os.environ.get("STYLE_PLUGIN_CACHE_DIR")
    if override:
        return Path(override)
    return _base("XDG_CACHE_HOME", ".cache", "Caches") / _APP
