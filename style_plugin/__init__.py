"""style-plugin: neural style transfer for image editors, scripts and Python.

    import style_plugin
    style_plugin.stylize("photo.jpg", style="starry-night").save("starry.png")
    stylizer = style_plugin.Stylizer("my-styles.onnx")       # load once, call many times
    style_plugin.load_model("my-styles.onnx").styles          # names, labels, metadata
    style_plugin.StyleSettings(strength=0.6, scale=2)         # settings for many calls

Plugins mark their hook implementations with `style_plugin.hookimpl` (docs/plugins.md).

The API is imported on first use, so `import style_plugin` stays cheap; none of it imports
torch. Styles are found among the bundled models, the styles of installed style packs and
the user's model folder (style_plugin/runtime/store.py), whichever path imports the API.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING

from style_plugin.lazy import lazy_attributes

try:
    __version__ = metadata.version("style-plugin")
except metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "StyleModel",
    "StyleSettings",
    "Stylizer",
    "__version__",
    "hookimpl",
    "load_model",
    "stylize",
]

if TYPE_CHECKING:
    from style_plugin.hookspecs import hookimpl
    from style_plugin.runtime.model import StyleModel, load_model
    from style_plugin.runtime.settings import StyleSettings
    from style_plugin.runtime.stylizer import Stylizer, stylize

_LAZY = {
    "stylize": "style_plugin.runtime.stylizer",
    "Stylizer": "style_plugin.runtime.stylizer",
    "load_model": "style_plugin.runtime.model",
    "StyleModel": "style_plugin.runtime.model",
    "StyleSettings": "style_plugin.runtime.settings",
    "hookimpl": "style_plugin.hookspecs",
}


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
