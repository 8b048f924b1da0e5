"""Hosts that only stylize must never pay for importing torch."""

from __future__ import annotations

import subprocess
import sys

LIGHT_MODULES = [
    "style_plugin",
    "style_plugin.cli",
    "style_plugin.errors",
    "style_plugin.atomic",
    "style_plugin.bundled",
    "style_plugin.runtime.images",
    "style_plugin.runtime.batch",
    "style_plugin.runtime.stylizer",
    "style_plugin.runtime.store",
    "hooks",
    "exporters",
]


def test_light_modules_do_not_import_torch():
    code = (
        "import importlib, sys\n"
        f"for name in {LIGHT_MODULES!r}: importlib.import_module(name)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_help_does_not_import_torch():
    code = (
        "import sys\n"
        "from style_plugin.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "train" in result.stdout
