"""Fixtures every area shares: small images made on the fly, a user model folder of each
test's own, the two-style test model and the example style pack (tests never touch the
network)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from style_plugin.hooks.filters import Filter
from tests.support import (
    PACK_FIXTURE,
    PACK_NAME,
    PACK_STYLES,
    make_checkpoint,
    make_painting,
    make_photo,
    pip_install,
)

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


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """in/a.png, in/b.png, in/sub/c.png, in/sub/deeper/d.png (96x80 and smaller)."""
    root = tmp_path / "in"
    make_photo(root / "a.png", seed=1)
    make_photo(root / "b.png", 64, 48, seed=2)
    make_photo(root / "sub" / "c.png", 48, 64, seed=3)
    make_photo(root / "sub" / "deeper" / "d.png", 40, 40, seed=4)
    return root


@pytest.fixture(autouse=True)
def user_models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty per-test user model folder: tests never see the developer's own models."""
    folder = tmp_path / "user-models"
    monkeypatch.setenv("STYLE_PLUGIN_MODELS_DIR", str(folder))
    monkeypatch.setenv("STYLE_PLUGIN_CACHE_DIR", str(tmp_path / "cache"))
    return folder


@pytest.fixture(autouse=True)
def bundled_models_dir(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path):
    """Tests see only the models they make; those marked `bundled` see the package's own.
    The plugin registry caches what it found, so it is reloaded around the switch."""
    from style_plugin.plugins import reload_plugins
    from style_plugin.runtime import store

    if request.node.get_closest_marker("bundled"):
        reload_plugins()
        yield store.bundled_models_dir()
        reload_plugins()
        return
    hidden = tmp_path / "no-bundled-models"
    monkeypatch.setattr(store, "bundled_models_dir", lambda: hidden)
    yield hidden


@pytest.fixture(autouse=True)
def krita_launcher_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bin folder of a venv of the test's own, made when `style-plugin install krita` asks
    where its `krita` launcher goes: tests never write into the venv that runs them."""
    from style_plugin.hooks.hosts.krita import launcher

    venv = tmp_path / "venv-running-the-tests"

    def bin_folder() -> Path:
        (venv / "bin").mkdir(parents=True, exist_ok=True)
        (venv / "pyvenv.cfg").touch()
        return venv / "bin"

    monkeypatch.setattr(launcher, "default_folder", bin_folder)
    return venv / "bin"


@pytest.fixture
def installed(style_model: Path, user_models_dir: Path) -> Path:
    """The two-style test model installed in the (per-test) user model folder."""
    user_models_dir.mkdir(parents=True)
    return Path(shutil.copy(style_model, user_models_dir / "two.onnx"))


@pytest.fixture(scope="session")
def style_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-style ONNX style model (styles 'starry-night' and 'the_scream') exported from
    an untrained generator whose per-style parameters differ clearly; fp32, verified."""
    from style_plugin.exporters.onnx import export_onnx

    folder = tmp_path_factory.mktemp("style-model")
    checkpoint = make_checkpoint(folder / "checkpoint.pt")
    return export_onnx(checkpoint, folder / "two-styles.onnx").output


@pytest.fixture
def stylize(style_model: Path, user_models_dir: Path) -> Iterator[Filter]:
    """The Stylize filter with the two-style test model installed in this test's user model
    folder; the plug-ins are read again afterwards, for the next test's folder."""
    from style_plugin.plugins import get_filter, reload_plugins

    user_models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(style_model, user_models_dir / style_model.name)
    reload_plugins()
    yield get_filter("stylize")
    reload_plugins()


@pytest.fixture(scope="session")
def pack_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the installed example style pack (styles ukiyo-e and sumi-e)."""
    from style_plugin.exporters.onnx import export_onnx

    root = tmp_path_factory.mktemp("style-pack")
    ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "*.onnx")
    pack = Path(shutil.copytree(PACK_FIXTURE, root / "pack", ignore=ignore))
    models = pack / PACK_NAME / "models"
    models.mkdir()
    checkpoint = make_checkpoint(root / "checkpoint.pt", styles=list(PACK_STYLES), seed=1)
    export_onnx(checkpoint, models / "ukiyo-e.onnx", verify=False, labels=PACK_STYLES)
    return pip_install(pack, root / "site")
