"""Save the whole X screen as a PNG: `python3 grab_screen.py PATH` (the shell driver runs it
with the system's Python, which has GTK's introspection data)."""

from __future__ import annotations

import sys

import gi

gi.require_version("Gdk", "3.0")
from gi.repository import Gdk  # noqa: E402


def grab(path: str) -> None:
    window = Gdk.get_default_root_window()
    pixbuf = Gdk.pixbuf_get_from_window(window, 0, 0, window.get_width(), window.get_height())
    pixbuf.savev(path, "png", [], [])


if __name__ == "__main__":
    grab(sys.argv[1])
