"""Style models are untrusted input: a `.onnx` from the internet or a style pack
must not read other files, exhaust memory or the stack, write to the terminal, or pass off
a broken result as a picture. Every model here is crafted with the `onnx` helper API and run
by the real onnxruntime."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from packaging.requirements import Requirement

from style_plugin import contract
from style_plugin.errors import ModelError
from style_plugin.hooks.filters import Choice, Param
from style_plugin.hooks.hosts.gimp import bridge
from style_plugin.hooks.stylize_filter import StylizeFilter
from style_plugin.runtime import self_contained
from style_plugin.runtime.model import load_model
from style_plugin.runtime.stylizer import Stylizer
from tests.support import REPO, assert_one_line_error, make_photo, run_cli

SCALE = "scale"
ESCAPES = "Evil\x1b[2J\nlabel\u202e"


# ---------------------------------------------------------------------------------------
# Crafted models


def styles_metadata(*names: str) -> dict[str, str]:
    """`style_plugin.styles` naming `names`, each labelled with its capitalised name."""
    listed = [{"name": name, "label": name.capitalize()} for name in names]
    return {"style_plugin.styles": json.dumps(listed)}


def make_style_model(
    path: Path,
    *,
    metadata: dict[str, str] | None = None,
    styles: int = 1,
    scale: float = 1.0,
    nodes: Sequence[onnx.NodeProto] = (),
    initializers: Sequence[onnx.TensorProto] | None = None,
    sparse: Sequence[onnx.SparseTensorProto] = (),
) -> Path:
    """A model keeping the contract: stylized = image * scale, with `scale` a stored [1]
    tensor unless `nodes` or `sparse` make it; `metadata` is stored as given."""
    image = helper.make_tensor_value_info(contract.IMAGE, TensorProto.FLOAT, ["N", 3, "H", "W"])
    weights = helper.make_tensor_value_info(
        contract.STYLE_WEIGHTS, TensorProto.FLOAT, ["N", styles]
    )
    out = helper.make_tensor_value_info(contract.STYLIZED, TensorProto.FLOAT, ["N", 3, "H", "W"])
    if initializers is None:
        initializers = [] if nodes or sparse else [plain_tensor(SCALE, scale)]
    multiply = helper.make_node("Mul", [contract.IMAGE, SCALE], [contract.STYLIZED])
    graph = helper.make_graph(
        [*nodes, multiply],
        "style",
        [image, weights],
        [out],
        initializer=list(initializers),
        sparse_initializer=list(sparse),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    helper.set_model_props(model, metadata or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())  # as crafted: no onnx.save checks
    return path


def plain_tensor(name: str, value: float) -> onnx.TensorProto:
    return helper.make_tensor(name, TensorProto.FLOAT, [1], [value])


def external_tensor(name: str, location: str) -> onnx.TensorProto:
    """A [1] float tensor whose 4 bytes the file says are at the start of `location`."""
    tensor = helper.make_tensor(name, TensorProto.FLOAT, [1], [0.0])
    tensor.ClearField("float_data")
    for key, value in (("location", location), ("offset", "0"), ("length", "4")):
        tensor.external_data.add(key=key, value=value)
    tensor.data_location = TensorProto.EXTERNAL
    return tensor


def constant(output: str, tensor: onnx.TensorProto) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [output], value=tensor)


def scale_from_a_subgraph(location: str) -> list[onnx.NodeProto]:
    """`scale` = If(true) of a branch whose Constant stores its tensor at `location`."""

    def branch(name: str, tensor: onnx.TensorProto) -> onnx.GraphProto:
        result = helper.make_tensor_value_info(name, TensorProto.FLOAT, [1])
        return helper.make_graph([constant(name, tensor)], name, [], [result])

    yes = helper.make_tensor("yes", TensorProto.BOOL, [], [True])
    return [
        constant("cond", yes),
        helper.make_node(
            "If",
            ["cond"],
            [SCALE],
            then_branch=branch("then", external_tensor("then_value", location)),
            else_branch=branch("else", plain_tensor("else_value", 1.0)),
        ),
    ]


# ---------------------------------------------------------------------------------------
# 1. External data


def test_no_onnxruntime_that_reads_outside_the_model_folder_is_allowed():
    """Where onnxruntime 1.24.1 has wheels (Python 3.11+), older ones are not allowed; Python
    3.10, which has none, keeps its onnxruntime and relies on the runtime's own check."""
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(text) for text in project["dependencies"]]
    for platform in ("linux", "win32", "darwin"):
        for python in ("3.10", "3.11", "3.12", "3.13"):
            where = {"sys_platform": platform, "python_version": python}
            (runtime,) = [
                r
                for r in requirements
                if r.name.startswith("onnxruntime")
                and (r.marker is None or r.marker.evaluate(where))
            ]
            assert runtime.specifier.contains("1.24.1"), (where, runtime)
            assert python == "3.10" or not runtime.specifier.contains("1.23.2"), (where, runtime)


def test_external_data_outside_the_folder_is_refused_before_any_session(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET:x:0:0::/home:/bin/sh\n")
    path = make_style_model(
        tmp_path / "models" / "evil.onnx", initializers=[external_tensor(SCALE, "../secret.txt")]
    )
    with pytest.raises(ModelError) as info:
        load_model(path, device="cpu")
    message = str(info.value)
    assert "stores tensor 'scale' outside the file" in message and "\n" not in message
    assert "TOPSECRET" not in message


@pytest.mark.parametrize("where", ["initializer", "constant", "subgraph", "sparse"])
def test_external_data_is_refused_wherever_the_file_keeps_a_tensor(tmp_path, where):
    # beside the model, where every onnxruntime would read it: the runtime is not relied on
    (tmp_path / "weights.bin").write_bytes(np.float32(1.0).tobytes())
    parts = {
        "initializer": {"initializers": [external_tensor(SCALE, "weights.bin")]},
        "constant": {"nodes": [constant(SCALE, external_tensor("value", "weights.bin"))]},
        "subgraph": {"nodes": scale_from_a_subgraph("weights.bin")},
        "sparse": {
            "sparse": [
                helper.make_sparse_tensor(
                    external_tensor(SCALE, "weights.bin"),
                    helper.make_tensor("indices", TensorProto.INT64, [1], [0]),
                    [1],
                )
            ]
        },
    }[where]
    path = make_style_model(tmp_path / "model.onnx", **parts)
    with pytest.raises(ModelError, match=r"stores tensor '\w+' outside the file"):
        load_model(path, device="cpu")


def test_the_external_data_scan_knows_every_field_that_can_hold_a_tensor():
    """The scan's table of fields equals what onnx.proto says reaches a TensorProto."""
    tensor = onnx.TensorProto.DESCRIPTOR
    reaches: dict[str, bool] = {}

    def holds_tensors(message) -> bool:
        if message is tensor:
            return True
        if message.full_name not in reaches:
            reaches[message.full_name] = False  # cycles (graphs in attributes) add nothing
            reaches[message.full_name] = any(
                field.message_type is not None and holds_tensors(field.message_type)
                for field in message.fields
            )
        return reaches[message.full_name]

    expected: dict[str, dict[int, str]] = {}
    pending = [onnx.ModelProto.DESCRIPTOR]
    while pending:
        message = pending.pop()
        if message.name in expected or message is tensor:
            continue
        expected[message.name] = {
            field.number: field.message_type.name
            for field in message.fields
            if field.message_type is not None and holds_tensors(field.message_type)
        }
        pending += [field.message_type for field in message.fields if field.message_type]
    expected = {name: fields for name, fields in expected.items() if fields}
    assert expected == self_contained.TENSOR_FIELDS


def test_self_contained_models_still_load_and_run(tmp_path):
    path = make_style_model(tmp_path / "half.onnx", scale=0.5, metadata=styles_metadata("half"))
    model = load_model(path, device="cpu")
    assert model.style_names == ["half"]
    rgb = np.full((8, 8, 3), 200, dtype=np.uint8)
    half = Stylizer(model).stylize_array(rgb, strength=1.0).astype(float)
    assert abs(half.mean() - 100) < 1 and np.abs(half - 100).max() <= 6  # and half the dither


def test_a_file_the_scan_cannot_read_is_not_a_model(tmp_path):
    good = make_style_model(tmp_path / "good.onnx").read_bytes()
    path = tmp_path / "cut.onnx"
    path.write_bytes(good[: len(good) - 3])
    with pytest.raises(ModelError, match="is not an ONNX model") as info:
        load_model(path, device="cpu")
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------------
# 2. Hostile metadata


DEEP = "[" * 100_000 + "]" * 100_000
HOSTILE_METADATA = {
    "nested styles": ({"style_plugin.styles": DEEP}, "style_plugin.styles", "nests deeper"),
    "nested training": ({"style_plugin.training": DEEP}, "style_plugin.training", "nests deeper"),
    "huge training": (
        {"style_plugin.training": json.dumps({"notes": "x" * 2_000_000})},
        "style_plugin.training",
        "longer than",
    ),
    "too many styles": (
        {"style_plugin.styles": json.dumps([{"name": f"s{i}"} for i in range(1025)])},
        "style_plugin.styles",
        "1025 styles",
    ),
    "long name": (styles_metadata("n" * 1000), "style_plugin.styles", "longer than"),
    "long label": (
        {"style_plugin.styles": json.dumps([{"name": "a", "label": "l" * 1000}])},
        "style_plugin.styles",
        "longer than",
    ),
    "long preset": ({"style_plugin.preset": "p" * 1000}, "style_plugin.preset", "longer than"),
    "escape in a name": (styles_metadata("a\x1b[2J"), "style_plugin.styles", "cannot be shown"),
    "huge min_side": ({"style_plugin.min_side": "1000000"}, "style_plugin.min_side", "at most"),
}


@pytest.mark.parametrize(
    ("metadata", "key", "reason"), HOSTILE_METADATA.values(), ids=list(HOSTILE_METADATA)
)
def test_hostile_metadata_is_a_one_line_model_error(tmp_path, metadata, key, reason):
    path = make_style_model(tmp_path / "hostile.onnx", metadata=metadata)
    with pytest.raises(ModelError) as info:
        load_model(path, device="cpu")
    message = str(info.value)
    assert key in message and reason in message, message
    assert "\n" not in message and "\x1b" not in message and len(message) < 300


@pytest.mark.parametrize("count", [1025, 10**8])
def test_a_graph_declaring_too_many_styles_is_refused_without_allocating_them(tmp_path, count):
    path = make_style_model(tmp_path / "many.onnx", styles=count)
    with pytest.raises(ModelError, match=f"{count} styles"):
        load_model(path, device="cpu")


def test_one_hostile_model_in_the_folder_breaks_nothing_else(user_models_dir, tmp_path, capsys):
    # "a-..." sorts first: every model after it must still be found
    make_style_model(user_models_dir / "a-hostile.onnx", metadata={"style_plugin.styles": DEEP})
    make_style_model(user_models_dir / "good.onnx", metadata=styles_metadata("good"))
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    assert any(line.startswith("good ") for line in out.splitlines())
    assert re.search(r"a-hostile\.onnx \(user\): .*nests deeper", out)
    photo = make_photo(tmp_path / "photo.png", 24, 20)
    code, _, err = run_cli(capsys, "stylize", photo, "--style", "good", "--device", "cpu", "-q")
    assert code == 0, err
    assert (tmp_path / "photo-stylized.png").is_file()
    assert StylizeFilter(device="cpu").style_choices() == [Choice("good", "Good")]


def test_one_line_errors_from_the_cli_for_a_hostile_model(tmp_path, capsys):
    path = make_style_model(tmp_path / "deep.onnx", metadata={"style_plugin.training": DEEP})
    photo = make_photo(tmp_path / "photo.png", 24, 20)
    code, _, err = run_cli(capsys, "stylize", photo, "--model", path, "--device", "cpu")
    assert_one_line_error(code, err, "deep.onnx", "style_plugin.training")


# ---------------------------------------------------------------------------------------
# 3. Names and labels shown as plain text


def test_printable_escapes_what_a_terminal_or_widget_would_obey():
    printable = contract.printable
    assert printable(ESCAPES + "\x7f\x9b\u2028") == ("Evil\\x1b[2J\\nlabel\\u202e\\x7f\\x9b\\u2028")
    shown = "Starry Night – 星空 <b>é</b> 🎨 C:\\art"
    assert printable(shown) == shown
    assert printable(printable(ESCAPES)) == printable(ESCAPES)


def test_models_lists_labels_escaped(user_models_dir, capsys):
    listed = [{"name": "evil", "label": ESCAPES}]
    metadata = {"style_plugin.styles": json.dumps(listed), "style_plugin.preset": "\x1b[31m"}
    make_style_model(user_models_dir / "evil.onnx", metadata=metadata)
    code, out, _ = run_cli(capsys, "models")
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out
    (row,) = [line for line in out.splitlines() if line.startswith("evil ")]
    assert "Evil\\x1b[2J\\nlabel\\u202e" in row and "\\x1b[31m" in row


def test_onnxruntime_errors_quoting_model_text_are_escaped(tmp_path):
    path = make_style_model(
        tmp_path / "op.onnx", nodes=[helper.make_node("Evil\x1b[2J", [], [SCALE], name="\x1b[31m")]
    )
    with pytest.raises(ModelError, match="is not an ONNX model") as info:
        load_model(path, device="cpu")
    message = str(info.value)
    assert "\x1b" not in message and "\\x1b[2J" in message


def test_stylize_filter_and_gimp_show_model_labels_escaped(user_models_dir):
    listed = [{"name": "evil", "label": "Evil\x1b[2J_x"}]
    metadata = {"style_plugin.styles": json.dumps(listed)}
    make_style_model(user_models_dir / "evil.onnx", metadata=metadata)
    style = StylizeFilter(device="cpu").params()[0]
    assert style.choices == (Choice("evil", "Evil\\x1b[2J_x"),)
    raw = Param("style", "Style\x1b[2J", "choice", "evil", "", choices=(Choice("evil", ESCAPES),))
    argument = bridge.argument_for(raw)
    assert argument.label == "Style\\x1b[2J"
    assert argument.choices == (("evil", "Evil\\x1b[2J\\nlabel\\u202e"),)


# The Krita dialog shows these texts as plain text: checked in the real Krita, in
# tests/hosts/krita/test_real_krita.py (test_kritarunner_runs_the_plugin_code).


# ---------------------------------------------------------------------------------------
# 4. Non-finite output


@pytest.mark.parametrize("side", [16, 100])  # whole, and in tiles of 32
def test_non_finite_output_fails_naming_the_model(tmp_path, side):
    path = make_style_model(tmp_path / "nan.onnx", scale=float("nan"))
    stylizer = Stylizer(path, device="cpu", tile_size=32)
    with pytest.raises(ModelError, match=r"nan\.onnx .*not finite") as info:
        stylizer.stylize_array(np.full((side, side, 3), 128, dtype=np.uint8))
    assert "\n" not in str(info.value)


def test_stylize_cli_reports_a_nan_model_and_writes_nothing(tmp_path, capsys):
    path = make_style_model(tmp_path / "nan.onnx", scale=float("nan"))
    photo = make_photo(tmp_path / "photo.png", 24, 20)
    code, _, err = run_cli(capsys, "stylize", photo, "--model", path, "--device", "cpu", "-q")
    assert code == 1 and "nan.onnx" in err and "not finite" in err
    assert not (tmp_path / "photo-stylized.png").exists()
