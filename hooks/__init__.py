"""What plugins and hosts use of style-plugin's plugin system, in one import.

Plugins mark their hook implementations with `hookimpl` (specs: style_plugin/hookspecs.py) and
build filters from `hooks.filters`; hosts ask for what every plugin registered. A broken
plugin is reported by `broken_plugins()` and skipped, never fatal. The manager itself is
style_plugin/plugins.py.
"""

from __future__ import annotations

from style_plugin.hookspecs import hookimpl
from style_plugin.plugins import (
    broken_plugins,
    get_exporter,
    get_filter,
    register_commands,
    registered_exporters,
    registered_filters,
    reload_plugins,
    style_entries,
)

__all__ = [
    "broken_plugins",
    "get_exporter",
    "get_filter",
    "hookimpl",
    "register_commands",
    "registered_exporters",
    "registered_filters",
    "reload_plugins",
    "style_entries",
]
