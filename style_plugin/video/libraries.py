"""The `video` extra's libraries, imported on first use: PyAV for clips, OpenCV for motion.

Without them, one line says how to get them, instead of an ImportError's traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from style_plugin.errors import StylePluginError

__all__ = ["INSTALL_HINT", "opencv", "pyav"]

INSTALL_HINT = "pip install 'style-plugin[video]'"


def _extra_module(name: str, purpose: str) -> ModuleType:
    """Import `name`, or StylePluginError saying what needs it and how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise StylePluginError(f"{purpose}; install the video extra: {INSTALL_HINT}") from None


def pyav() -> ModuleType:
    """The `av` module (PyAV, with FFmpeg in its wheel)."""
    return _extra_module("av", "reading and writing video clips needs PyAV")


def opencv() -> ModuleType:
    """The `cv2` module (opencv-python-headless), for optical flow."""
    return _extra_module("cv2", "holding strokes from frame to frame needs OpenCV")
