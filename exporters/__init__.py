"""torch checkpoints -> deployable style models. ONNX first; more formats come from plugins.

Formats are registered through the `register_exporters` hook (style_plugin/hookspecs.py): the
built-in plugin registers `ONNX_EXPORTER` exactly as a third-party plugin registers its own,
and `style_plugin.plugins.get_exporter(name)` finds any of them.

Importing this package is cheap: torch and onnx are imported only when an export runs.
"""

from __future__ import annotations

from style_plugin.exporters.base import Exporter, ExportReport
from style_plugin.exporters.onnx import ONNX_EXPORTER

__all__ = ["ONNX_EXPORTER", "ExportReport", "Exporter"]
