"""The plugin manager: the built-in plugin and every installed plugin, broken ones fenced off.

Every plugin, the built-in one (style_plugin/hooks/builtin.py) included, is found through
the entry-point group `style_plugin`; the built-in one is registered first, so the bundled
styles come first. A plugin that fails to import, raises in a hook, or registers something
unusable is recorded in `broken_plugins()` with its name and one line of reason, and skipped:
the CLI, hosts and the other plugins keep working. What the hooks register is collected once
per process, on first use (`reload_plugins()` starts over).

This module sits below the runtime: it knows what a registered thing must look like, not
what it is, so the runtime's model store asks it for the styles packs registered
(runtime/store.py) and the hooks and hosts above both use it.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from style_plugin import hookspecs
from style_plugin.errors import FilterError, StylePluginError, one_line

__all__ = [
    "BUILTIN_NAME",
    "ENTRY_POINT_GROUP",
    "BrokenPlugin",
    "ModelEntry",
    "Registry",
    "broken_plugins",
    "get_exporter",
    "get_filter",
    "plugin_manager",
    "register_commands",
    "registered_exporters",
    "registered_filters",
    "registry",
    "reload_plugins",
    "style_entries",
]

ENTRY_POINT_GROUP = hookspecs.PROJECT
#: The built-in plugin's name: its entry point's, and this distribution's.
BUILTIN_NAME = "style-plugin"


@dataclass(frozen=True)
class ModelEntry:
    """A style model file and where it came from ('bundled', 'user', or a plugin's name)."""

    path: Path
    source: str


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that was skipped: its name, what failed (import, a hook), and why."""

    name: str
    stage: str
    reason: str

    def describe(self) -> str:
        return f"plugin {self.name!r} skipped ({self.stage}): {self.reason}"


@dataclass
class Registry:
    """Everything the plugins registered, by kind, with the plugin each came from."""

    filters: dict[str, tuple[Any, str]] = field(default_factory=dict)
    styles: list[ModelEntry] = field(default_factory=list)
    exporters: dict[str, tuple[Any, str]] = field(default_factory=dict)
    broken: list[BrokenPlugin] = field(default_factory=list)


_LOCK = threading.RLock()
_STATE: dict[str, Any] = {}


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with the built-in plugin and installed plugins."""
    with _LOCK:
        if "pm" not in _STATE:
            _STATE["pm"], _STATE["import_errors"] = _create_manager()
        return _STATE["pm"]


def _create_manager() -> tuple[pluggy.PluginManager, list[BrokenPlugin]]:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    broken = []
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    if not any(_is_builtin(entry_point) for entry_point in found):
        reason = "its entry point is missing: the style-plugin install is incomplete (reinstall it)"
        broken.append(BrokenPlugin(BUILTIN_NAME, "import", reason))
    for entry_point in sorted(found, key=lambda entry_point: not _is_builtin(entry_point)):
        taken = pm.get_plugin(entry_point.name) is not None
        if taken or (entry_point.name == BUILTIN_NAME and not _is_builtin(entry_point)):
            continue
        try:
            plugin = entry_point.load()
            pm.register(plugin, name=entry_point.name)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # an import error, even sys.exit(), must not stop us
            broken.append(BrokenPlugin(entry_point.name, "import", one_line(exc, named=True)))
    return pm, broken


def _is_builtin(entry_point: importlib.metadata.EntryPoint) -> bool:
    """Whether `entry_point` is this distribution's own plugin (a third party's of the same
    name is not: it is skipped as a duplicate)."""
    dist = entry_point.dist
    owner = dist.metadata["Name"] if dist is not None else ""
    return entry_point.name == BUILTIN_NAME and owner.lower().replace("_", "-") == BUILTIN_NAME


def _call_each(
    hook_name: str, arguments: Callable[[str], dict[str, Any]], commit: Callable[[str], None]
) -> list[BrokenPlugin]:
    """Call every plugin's implementation of a hook on its own, with the arguments it names
    (as pluggy does: an implementation may take fewer than the spec), then `commit(plugin)`
    what it registered. One that raises anything but Ctrl-C, or whose registrations are
    refused, is reported and contributes nothing."""
    pm = plugin_manager()
    broken = []
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        name = pm.get_name(impl.plugin) or repr(impl.plugin)
        try:
            given = arguments(name)
            impl.function(*(given[arg] for arg in impl.argnames))
            commit(name)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            broken.append(BrokenPlugin(name, hook_name, one_line(exc, named=True)))
    return broken


def registry() -> Registry:
    """What the plugins registered (collected on first use, then cached)."""
    with _LOCK:
        if "registry" not in _STATE:
            _STATE["registry"] = _collect()
        return _STATE["registry"]


def _collect() -> Registry:
    """Call the three registering hooks. A plugin's registrations are staged and kept only
    when all of its hooks succeed: a plugin reported as skipped leaves nothing behind."""
    plugin_manager()
    staged: dict[str, Registry] = {}
    broken = list(_STATE["import_errors"])

    def stage(plugin: str) -> Registry:
        return staged.setdefault(plugin, Registry())

    def register_filter(plugin: str) -> Callable[[Any], None]:
        def register(item: Any) -> None:
            if not _is_filter(item):
                raise TypeError(f"register_filters got {type(item).__name__}, not a Filter")
            stage(plugin).filters[item.name] = (item, plugin)

        return register

    def register_style(plugin: str) -> Callable[[str | Path], None]:
        def register(path: str | Path) -> None:
            source = "bundled" if plugin == BUILTIN_NAME else plugin
            stage(plugin).styles.append(ModelEntry(Path(path), source))

        return register

    def register_exporter(plugin: str) -> Callable[[Any], None]:
        def register(exporter: Any) -> None:
            name = getattr(exporter, "name", None)
            if not isinstance(name, str) or not callable(getattr(exporter, "export", None)):
                raise TypeError("register_exporters needs an object with .name and .export()")
            stage(plugin).exporters[name] = (exporter, plugin)

        return register

    for hook, make in (
        ("register_filters", register_filter),
        ("register_styles", register_style),
        ("register_exporters", register_exporter),
    ):
        broken += _call_each(hook, lambda plugin, make=make: {"register": make(plugin)}, stage)
    failed = {plugin.name for plugin in broken}
    found = Registry()
    for plugin, mine in staged.items():
        if plugin in failed:
            continue  # reported; what it registered before failing is dropped
        clash = _clash(found, mine)
        if clash is not None:
            broken.append(BrokenPlugin(plugin, *clash))
            continue
        found.filters.update(mine.filters)
        found.exporters.update(mine.exporters)
        found.styles += mine.styles
    found.broken = broken
    return found


def _clash(found: Registry, mine: Registry) -> tuple[str, str] | None:
    """(hook, reason) when `mine` names a filter or export format another plugin has."""
    for name in mine.filters.keys() & found.filters.keys():
        return "register_filters", f"ValueError: filter name {name!r} is taken by another plugin"
    for name in mine.exporters.keys() & found.exporters.keys():
        return "register_exporters", (
            f"ValueError: export format {name!r} is taken by another plugin"
        )
    return None


def _is_filter(item: Any) -> bool:
    """Whether `item` has what hosts use of a filter (hooks.filters.Filter has all of it)."""
    wanted = ("params", "apply", "preview", "describe")
    return isinstance(getattr(item, "name", None), str) and all(
        callable(getattr(item, method, None)) for method in wanted
    )


def register_commands(
    new_group: Callable[[], Any], adopt: Callable[[Any], None]
) -> list[BrokenPlugin]:
    """Let every plugin add commands: each gets a group of its own (`new_group()`), adopted
    into the command line (`adopt(group)`, which raises to refuse it) only when its hook
    returns normally. Returns the plugins that failed or were refused."""
    groups: dict[str, Any] = {}
    return _call_each(
        "register_commands",
        lambda plugin: {"cli": groups.setdefault(plugin, new_group())},
        lambda plugin: adopt(groups[plugin]),
    )


def reload_plugins() -> None:
    """Forget the manager and what was registered (tests, hosts after installing a pack)."""
    with _LOCK:
        _STATE.clear()


def registered_filters() -> dict[str, Any]:
    """Every registered filter by name."""
    return {name: item for name, (item, _) in registry().filters.items()}


def get_filter(name: str) -> Any:
    """The filter called `name`; FilterError lists the known ones."""
    known = registered_filters()
    if name not in known:
        raise FilterError(f"unknown filter {name!r}; known filters: {', '.join(sorted(known))}")
    return known[name]


def registered_exporters() -> dict[str, Any]:
    """Every registered export format by name."""
    return {name: item for name, (item, _) in registry().exporters.items()}


def get_exporter(name: str) -> Any:
    """The export format called `name`; StylePluginError lists the known ones."""
    known = registered_exporters()
    if name not in known:
        formats = ", ".join(f"{item.name} ({item.suffix})" for item in known.values())
        raise StylePluginError(f"unknown export format {name!r}; known: {formats or 'none'}")
    return known[name]


def style_entries() -> list[ModelEntry]:
    """Style model files registered by plugins (the built-in one's bundled models first)."""
    return list(registry().styles)


def broken_plugins() -> list[BrokenPlugin]:
    """Plugins (or their hooks) that failed and were skipped."""
    return list(registry().broken)
