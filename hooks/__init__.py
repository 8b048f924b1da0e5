"""The outer side of the plugin system: what plugins build on and what hosts show.

`filters` defines what a filter is (a parameter schema hosts render, `apply`, `preview`);
`builtin` is the package's own plugin, found through the `style_plugin` entry-point group as
every plugin is; `stylize_filter` is its Stylize filter; `hosts` puts filters into image
editors. Plugins mark their hook implementations with `style_plugin.hookimpl`; the hook
specifications and the plugin manager sit below the runtime (style_plugin/hookspecs.py,
style_plugin/plugins.py).
"""
