"""Refuse style models that keep tensors in other files, before onnxruntime opens them.

onnxruntime reads "external data" from whatever file a tensor names, and versions before
1.24.1 follow names out of the model's folder (docs/security.md); style models never need it.
The check walks the protobuf's structure in a memory map and skips the tensor bytes, so it
costs milliseconds and loads nothing.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from pathlib import Path

from style_plugin.contract import printable
from style_plugin.errors import ModelError

__all__ = ["TENSOR_FIELDS", "check_self_contained"]

#: Where a serialised ONNX model can keep tensors (onnx.proto): for each message type that
#: can hold one, itself or deeper down, the field numbers holding such messages and their type.
TENSOR_FIELDS: dict[str, dict[int, str]] = {
    "ModelProto": {7: "GraphProto", 20: "TrainingInfoProto", 25: "FunctionProto"},
    "TrainingInfoProto": {1: "GraphProto", 2: "GraphProto"},
    "FunctionProto": {7: "NodeProto", 11: "AttributeProto"},
    "GraphProto": {1: "NodeProto", 5: "TensorProto", 15: "SparseTensorProto"},
    "NodeProto": {5: "AttributeProto"},
    "AttributeProto": {
        5: "TensorProto",
        6: "GraphProto",
        10: "TensorProto",
        11: "GraphProto",
        22: "SparseTensorProto",
        23: "SparseTensorProto",
    },
    "SparseTensorProto": {1: "TensorProto", 2: "TensorProto"},
}
#: TensorProto fields: its name, and the two that say its bytes are in another file.
_TENSOR_NAME, _EXTERNAL_DATA, _DATA_LOCATION = 8, 13, 14
_EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL
#: Protobuf wire types; groups (3, 4) are not used by ONNX, so a file with them is refused.
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
#: protobuf's own default nesting limit: onnxruntime loads nothing deeper.
_MAX_NESTING = 100


def check_self_contained(path: Path) -> None:
    """ModelError unless every tensor of the model at `path` is stored in the file itself.

    onnxruntime reads "external data" from whatever file a tensor names, and versions before
    1.24.1 follow names out of the model's folder; style models never need it. Only the
    protobuf's structure is read (mapped, not loaded): tensor bytes are skipped.
    """
    if path.stat().st_size == 0:
        return  # onnxruntime says what is wrong with an empty file
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        try:
            name = _external_tensor(data, 0, len(data), "ModelProto", 0)
        except ValueError as exc:
            raise ModelError(f"{path} is not an ONNX model ({exc})") from None
    if name is not None:
        shown = printable(name[:100])
        what = f"tensor '{shown}'" if shown else "a tensor"
        raise ModelError(
            f"{path} stores {what} outside the file (external data); "
            "a style model must be one self-contained file"
        )


def _external_tensor(data: mmap.mmap, start: int, end: int, kind: str, depth: int) -> str | None:
    """The name of the first tensor kept in another file within the `kind` message at
    data[start:end], or None. ValueError where the bytes are not protobuf."""
    if depth > _MAX_NESTING:
        raise ValueError("its messages nest too deeply")
    if kind == "TensorProto":
        return _name_if_external(data, start, end)
    holders = TENSOR_FIELDS[kind]
    for number, wire, value, value_end in _fields(data, start, end):
        inner = holders.get(number)
        if inner is not None and wire == _LENGTH_DELIMITED:
            found = _external_tensor(data, value, value_end, inner, depth + 1)
            if found is not None:
                return found
    return None


def _name_if_external(data: mmap.mmap, start: int, end: int) -> str | None:
    """A TensorProto's name if any of its fields says its bytes are in another file."""
    name, external = b"", False
    for number, wire, value, value_end in _fields(data, start, end):
        if number == _TENSOR_NAME and wire == _LENGTH_DELIMITED:
            name = data[value:value_end]
        elif (number, wire) == (_EXTERNAL_DATA, _LENGTH_DELIMITED) or (
            (number, wire, value) == (_DATA_LOCATION, _VARINT, _EXTERNAL)
        ):
            external = True
    return name.decode("utf-8", "replace") if external else None


def _fields(data: mmap.mmap, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(number, wire type, value, end) of each field of the message at data[start:end]: a
    varint's value, or where the field's bytes start. Length-delimited bytes are skipped."""
    position = start
    while position < end:
        key, position = _varint(data, position, end)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, position = _varint(data, position, end)
        elif wire == _LENGTH_DELIMITED:
            length, value = _varint(data, position, end)
            position = value + length
        elif wire in (_FIXED64, _FIXED32):
            value, position = position, position + (8 if wire == _FIXED64 else 4)
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} at byte {position}")
        if position > end:
            raise ValueError(f"a field runs past the end of its message at byte {end}")
        yield number, wire, value, position


def _varint(data: mmap.mmap, position: int, end: int) -> tuple[int, int]:
    """The varint at data[position:end] and the position after it."""
    value = 0
    for shift in range(0, 70, 7):
        if position >= end:
            break
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
    raise ValueError(f"a number is cut short or too long at byte {position}")
