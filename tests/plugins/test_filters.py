"""What a filter is (hooks/filters.py): the parameter schema a host renders, values coerced
from any host or the command line, and `apply` / `preview`."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PIL import Image

from style_plugin.hooks.filters import Choice, Filter, FilterError, Param


class Recorder(Filter):
    """A filter that gives its input back and records what it was called with."""

    name = "recorder"
    label = "Recorder"
    description = "Gives the image back."

    def __init__(self) -> None:
        self.calls: list[tuple[Image.Image | np.ndarray, dict, bool | None]] = []

    def params(self) -> list[Param]:
        return [
            Param("amount", "Amount", "float", 0.5, minimum=0.0, maximum=1.0, step=0.1),
            Param("count", "Count", "int", 3, minimum=1),
            Param("mode", "Mode", "choice", "soft", choices=(Choice("soft", "Soft"),)),
            Param("invert", "Invert", "bool", False),
            Param("title", "Title", "string", ""),
        ]

    def run(self, image, params, progress, cancel):
        self.calls.append((image, params, cancel() if cancel else None))
        return image if isinstance(image, Image.Image) else Image.fromarray(image)


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("amount", "0.25", 0.25),
        ("amount", 1, 1.0),
        ("count", "7", 7),
        ("count", "4.0", 4),
        ("invert", "yes", True),
        ("invert", "off", False),
        ("invert", True, True),
        ("mode", "soft", "soft"),
        ("title", 12, "12"),
    ],
)
def test_coerce_converts_values_and_command_line_text(name, given, expected):
    (param,) = [p for p in Recorder().params() if p.name == name]
    value = param.coerce(given)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("name", "given", "needle"),
    [
        ("amount", "much", "takes a float"),
        ("amount", "nan", "takes a float"),
        ("amount", True, "takes a float"),
        ("count", "2.5", "takes a"),
        ("invert", "maybe", "takes a bool"),
        ("amount", "1.5", "must be between 0 and 1"),
        ("count", "0", "must be at least 1"),
        ("mode", "hard", "must be one of soft"),
    ],
)
def test_coerce_rejects_wrong_types_ranges_and_choices(name, given, needle):
    (param,) = [p for p in Recorder().params() if p.name == name]
    with pytest.raises(FilterError, match=needle):
        param.coerce(given)


def test_param_type_must_be_one_hosts_render():
    with pytest.raises(ValueError, match="type must be one of"):
        Param("colour", "Colour", "rgb", "#fff")


def test_resolve_fills_defaults_and_rejects_unknown_names():
    recorder = Recorder()
    assert recorder.resolve({"count": "5"}) == {
        "amount": 0.5,
        "count": 5,
        "mode": "soft",
        "invert": False,
        "title": "",
    }
    with pytest.raises(FilterError, match="no parameter 'colour'; its parameters: amount, count"):
        recorder.resolve({"colour": "red"})


def test_describe_is_plain_json():
    description = Recorder().describe()
    assert json.loads(json.dumps(description)) == description
    assert [p["name"] for p in description["params"]] == [
        "amount",
        "count",
        "mode",
        "invert",
        "title",
    ]
    amount, count, mode, invert, _ = description["params"]
    assert (amount["minimum"], amount["maximum"], amount["step"]) == (0.0, 1.0, 0.1)
    assert "maximum" not in count
    assert mode["choices"] == [{"value": "soft", "label": "Soft"}]
    assert "choices" not in invert


def test_apply_takes_arrays_and_an_event_to_cancel():
    recorder = Recorder()
    array = np.zeros((6, 8, 3), dtype=np.uint8)
    cancel = threading.Event()
    recorder.apply(array, {"amount": "0.1"}, cancel=cancel)
    cancel.set()
    recorder.apply(array, cancel=cancel)
    (first, params, stop_first), (_, _, stop_second) = recorder.calls
    assert first is array and params["amount"] == 0.1
    assert (stop_first, stop_second) == (False, True)


def test_preview_scales_down_first():
    recorder = Recorder()
    recorder.preview(Image.new("RGB", (1000, 400)), max_side=100)
    recorder.preview(np.zeros((300, 60, 3), dtype=np.uint8), max_side=150)
    recorder.preview(Image.new("RGB", (40, 30)))
    assert [call[0].size for call in recorder.calls] == [(100, 40), (30, 150), (40, 30)]
