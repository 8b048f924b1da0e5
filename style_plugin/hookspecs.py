"""The hook specifications every style-plugin plugin implements some of, and their marker.

Each hook receives a `register` callable and calls it once per thing it contributes; the
built-in plugin (style_plugin/hooks/builtin.py) registers the Stylize filter, the bundled styles and the
ONNX exporter exactly like this. A third-party package exposes its plugin module under the
entry-point group `style_plugin`:

    [project.entry-points.style_plugin]
    my_pack = "my_pack.plugin"

and implements, for instance:

    from style_plugin import hookimpl

    @hookimpl
    def register_styles(register):
        register(Path(__file__).parent / "models" / "ukiyo-e.onnx")

Arguments are passed by name, as pluggy does, so an implementation may take fewer than its
spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

#: The plugin system's project name (also the entry-point group plugins are found in).
PROJECT = "style_plugin"
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marks a plugin's hook implementations; plugins import it as `from style_plugin import hookimpl`.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_filters(register: Callable[[Any], None]) -> None:
    """Register filters a host can show: `register(filter)` with a `style_plugin.hooks.filters.Filter`."""


@hookspec
def register_styles(register: Callable[..., None]) -> None:
    """Register style models a package ships: `register(path_to_onnx_file)`."""


@hookspec
def register_exporters(register: Callable[[Any], None]) -> None:
    """Register export formats: `register(exporter)` with a `style_plugin.exporters.base.Exporter`."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to the `style-plugin` command line: `cli` is its Typer app."""
