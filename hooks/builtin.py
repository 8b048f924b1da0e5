"""The built-in plugin: registered through the same hooks as any third-party plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from style_plugin.hookspecs import hookimpl


@hookimpl
def register_filters(register: Callable[[Any], None]) -> None:
    from style_plugin.hooks.stylize_filter import StylizeFilter

    register(StylizeFilter())


@hookimpl
def register_styles(register: Callable[..., None]) -> None:
    from style_plugin.runtime.store import bundled_model_files

    for path in bundled_model_files():
        register(path)


@hookimpl
def register_exporters(register: Callable[[Any], None]) -> None:
    from style_plugin.exporters.onnx import ONNX_EXPORTER

    register(ONNX_EXPORTER)
