"""Export formats by name: torch checkpoints -> deployable style models (ONNX first).

`register_exporter(name, exporter)` adds a format, `get_exporter(name)` finds one,
`available_exporters()` lists them. The ONNX exporter registers itself on import; when
exporters move behind the plugin hooks, the built-in plugin calls `register_exporter` exactly
as a third-party one would, and nothing else here changes.

Importing this package is cheap: torch and onnx are imported only when an export runs.
"""

from __future__ import annotations

from exporters.base import Exporter, ExportReport
from exporters.onnx import ONNX_EXPORTER
from style_plugin.errors import StylePluginError

__all__ = [
    "ExportReport",
    "Exporter",
    "available_exporters",
    "get_exporter",
    "register_exporter",
]

_REGISTRY: dict[str, Exporter] = {}


def register_exporter(name: str, exporter: Exporter) -> None:
    """Make `exporter` available as `name`; registering the same object again is a no-op.

    A second, different exporter under a taken name is refused (StylePluginError): two
    plugins claiming one format is a broken installation, not something to resolve silently.
    """
    known = _REGISTRY.get(name)
    if known is not None and known is not exporter:
        raise StylePluginError(f"export format {name!r} is registered twice")
    _REGISTRY[name] = exporter


def get_exporter(name: str) -> Exporter:
    """The exporter registered as `name`; StylePluginError naming the known formats if none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(available_exporters()) or "none"
        raise StylePluginError(f"unknown export format {name!r}; known: {known}") from None


def available_exporters() -> list[str]:
    """Names of the registered formats, sorted."""
    return sorted(_REGISTRY)


register_exporter(ONNX_EXPORTER.name, ONNX_EXPORTER)
