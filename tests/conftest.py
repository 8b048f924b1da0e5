"""Shared fixtures: small images made on the fly (tests never touch the network)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.synthetic import make_painting, make_photo

os.environ.setdefault("STYLE_PLUGIN_OFFLINE", "1")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A folder of six small photos, two of them in a sub-folder."""
    folder = tmp_path / "photos"
    for i in range(6):
        make_photo(folder / ("sub" if i >= 4 else "") / f"p{i}.png", seed=i)
    return folder


@pytest.fixture
def paintings(tmp_path: Path) -> dict[str, Path]:
    """Two 'paintings' with clearly different textures."""
    return {
        "stripes": make_painting(tmp_path / "art" / "stripes.png", kind="stripes"),
        "checks": make_painting(tmp_path / "art" / "checks.png", kind="checks"),
    }
