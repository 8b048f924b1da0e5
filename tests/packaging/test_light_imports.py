"""Hosts that only stylize must never pay for importing torch: every way in, checked once.

Each case runs in a fresh interpreter (this one has long imported torch) and then asserts
that nothing of `HEAVY` (nor of the case's own extras) was imported.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import make_photo

#: What no stylizing path may import: torch and what only the exporter needs.
HEAVY = ("torch", "torchvision", "onnx")

LIGHT_MODULES = [
    "style_plugin",
    "style_plugin.cli",
    "style_plugin.errors",
    "style_plugin.atomic",
    "style_plugin.bundled",
    "style_plugin.runtime.reading",
    "style_plugin.runtime.writing",
    "style_plugin.runtime.pixels",
    "style_plugin.runtime.batch",
    "style_plugin.runtime.stylizer",
    "style_plugin.runtime.store",
    "style_plugin.hooks",
    "style_plugin.exporters",
]

#: name -> (code run with sys.argv[1:] = photo, model, output folder; the modules it may not
#: import besides HEAVY; what it prints). Each snippet checks its own result too.
PATHS = {
    "light modules": (
        f"import importlib\nfor name in {LIGHT_MODULES!r}: importlib.import_module(name)\n",
        (),
        "",
    ),
    # the image pipeline alone: not even onnxruntime or the plugin system
    "image module": (
        "import style_plugin.runtime.reading, style_plugin.runtime.writing\n",
        ("onnxruntime", "style_plugin.exporters", "style_plugin.hooks"),
        "",
    ),
    "exporter registry": (
        "from style_plugin import exporters\nassert exporters.ONNX_EXPORTER.suffix == '.onnx'\n",
        (),
        "",
    ),
    "python api": (
        "import numpy as np, style_plugin\n"
        "style_plugin.stylize(np.zeros((8, 8, 3), np.uint8), model=sys.argv[2])\n",
        (),
        "",
    ),
    "cli help": (
        "from style_plugin.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n",
        (),
        "train",  # the help was printed
    ),
    "cli stylize": (
        "from pathlib import Path\n"
        "from style_plugin.cli import main\n"
        "out = Path(sys.argv[3]) / 'out.png'\n"
        "try:\n    main(['stylize', sys.argv[1], '--model', sys.argv[2], '-o', str(out), '-q'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "assert out.is_file()\n",
        (),
        "",
    ),
    "cli demo": (  # the bundled model, every sample photo in every style
        "from pathlib import Path\n"
        "from style_plugin.cli import main\n"
        "try:\n    main(['demo', '--out', sys.argv[3], '--device', 'cpu'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "assert list(Path(sys.argv[3]).iterdir())\n",
        (),
        "",
    ),
    "host filter": (  # what the Krita and GIMP plugins run: the Stylize filter
        "from PIL import Image\n"
        "from style_plugin import plugins\n"
        "result = plugins.get_filter('stylize').apply(Image.open(sys.argv[1]), {'style': 'the_scream'})\n"
        "assert result.size == Image.open(sys.argv[1]).size\n",
        (),
        "",
    ),
}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(name, marks=pytest.mark.bundled) if name == "cli demo" else name
        for name in PATHS
    ],
)
def test_stylizing_imports_no_torch(path, style_model, installed, tmp_path):
    """`installed`: the host filter finds its styles among the installed models."""
    code, extra, printed = PATHS[path]
    photo = make_photo(tmp_path / "photo.png", 48, 40)
    forbidden = (*HEAVY, *extra)
    check = (
        f"heavy = sorted(m for m in sys.modules if m.startswith(tuple(f + '.' for f in {forbidden!r})) or m in {forbidden!r})\n"
        "assert not heavy, heavy\n"
    )
    args = [str(photo), str(style_model), str(tmp_path / "out")]
    result = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}{check}", *args], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert printed in result.stdout
