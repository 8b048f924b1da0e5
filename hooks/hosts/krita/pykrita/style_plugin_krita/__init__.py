"""Krita loads this module at start-up: the pykrita side of style-plugin's Stylize filter.

`style-plugin install krita` copies it into Krita's pykrita folder and writes
`environment.json` beside it (the record every host's plug-in reads, written by
hooks/hosts/environment.py): the Python version the environment was built for and the folders
to put on sys.path (the style-plugin package and its numpy, onnxruntime, Pillow and pluggy,
built for that version). The plug-in itself lives in the package
(`style_plugin.hooks.hosts.krita.extension`). When the package cannot be loaded here, Filter > Stylize…
still appears and says why and what to run.
"""

from __future__ import annotations

import json
import site
import sys
import traceback
from pathlib import Path
from typing import Any

from krita import Extension, Krita

ENVIRONMENT = Path(__file__).with_name("environment.json")
ACTION_ID = "style_plugin_stylize"


def activate(environment: dict[str, Any]) -> None:
    """Put the recorded folders first on sys.path (their .pth files run, as in a venv)."""
    before = list(sys.path)
    for entry in environment["sys_path"]:
        site.addsitedir(entry)
    sys.path[:] = [path for path in sys.path if path not in before] + before


class Unavailable(Extension):
    """Stands in for the Stylize action when the package cannot load: says why."""

    def __init__(self, parent: Any, reason: str) -> None:
        super().__init__(parent)
        self.reason = reason

    def setup(self) -> None:
        """Nothing to set up."""

    def createActions(self, window: Any) -> None:
        """The same menu entry as the working plug-in."""
        action = window.createAction(ACTION_ID, "Stylize…", "filter")
        action.triggered.connect(self.explain)

    def explain(self) -> None:
        """Show the reason in a message box."""
        from PyQt5.QtWidgets import QMessageBox

        QMessageBox.warning(None, "Stylize", self.reason)


def stylize(document: Any = None, node: Any = None, **params: Any) -> Any:
    """For Krita's Scripter: stylize a layer and return the new layer holding the result.

        from style_plugin_krita import stylize
        stylize(style="great-wave", strength=0.8)            # the active layer
        for doc in Krita.instance().documents():
            stylize(doc, doc.rootNode().childNodes()[0], style="starry-night", scale=2)

    `document`, `node`: default the active ones; `params`: the Stylize filter's (style,
    strength, preserve_colors, scale, max_side). One undo step each, as the menu's.
    """
    from style_plugin.hooks.hosts.krita.extension import stylize_in_script

    return stylize_in_script(document, node, **params)


def load() -> None:
    """Register the Stylize extension, or the stand-in that explains what is wrong."""
    reinstall = "Run `style-plugin install krita` again, then restart Krita."
    try:
        environment = json.loads(ENVIRONMENT.read_text(encoding="utf-8"))
        reinstall = environment.get("reinstall", reinstall)
        here = f"{sys.version_info.major}.{sys.version_info.minor}"
        if environment["python_version"] != here:
            raise RuntimeError(
                f"style-plugin was installed for Python {environment['python_version']}, "
                f"but this Krita runs Python {here}."
            )
        activate(environment)
        from style_plugin.hooks.hosts.krita.extension import register
    except Exception as exc:
        print(traceback.format_exc(), file=sys.stderr)
        reason = f"The Stylize plug-in cannot load: {exc}\n\n{reinstall}"
        Krita.instance().addExtension(Unavailable(Krita.instance(), reason))
        return
    register(Krita.instance(), environment)


load()
