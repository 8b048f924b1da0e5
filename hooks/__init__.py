"""The pluggy contract between style-plugin, its plugins and the hosts that embed it.

`hookimpl` marks a plugin's hook implementations (specs: hooks/hookspecs.py); the functions
below give hosts what all plugins registered. A broken plugin is reported by
`broken_plugins()` and skipped, never fatal.
"""

from __future__ import annotations

import pluggy

hookimpl = pluggy.HookimplMarker("style_plugin")

from hooks.plugins import (  # noqa: E402  (hookimpl must exist before plugins import it)
    broken_plugins,
    exporters,
    filters,
    get_exporter,
    get_filter,
    register_commands,
    reload_plugins,
    style_entries,
)

__all__ = [
    "broken_plugins",
    "exporters",
    "filters",
    "get_exporter",
    "get_filter",
    "hookimpl",
    "register_commands",
    "reload_plugins",
    "style_entries",
]
