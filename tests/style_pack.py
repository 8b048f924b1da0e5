"""The example style pack (tests/fixtures/style-pack), pip-installed into a folder: what a
third-party pack looks like to style-plugin, for the plugin and the Krita tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACK_FIXTURE = Path(__file__).parent / "fixtures" / "style-pack"
PACK_NAME = "example_style_pack"
PACK_STYLES = {"ukiyo-e": "Ukiyo-e", "sumi-e": "Sumi-e ink"}


def pip_install(project: Path, target: Path) -> Path:
    """Install `project` into the folder `target` offline, with the venv's setuptools."""
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--disable-pip-version-check", "--quiet", "--target", str(target)]
    result = subprocess.run([*command, str(project)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


@pytest.fixture(scope="session")
def pack_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the installed example style pack (styles ukiyo-e and sumi-e)."""
    from exporters.onnx import export_onnx
    from tests.helpers import make_checkpoint

    root = tmp_path_factory.mktemp("style-pack")
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "*.onnx")
    pack = Path(shutil.copytree(PACK_FIXTURE, root / "pack", ignore=ignore))
    models = pack / PACK_NAME / "models"
    models.mkdir()
    checkpoint = make_checkpoint(root / "checkpoint.pt", styles=list(PACK_STYLES), seed=1)
    export_onnx(checkpoint, models / "ukiyo-e.onnx", verify=False, labels=PACK_STYLES)
    return pip_install(pack, root / "site")
