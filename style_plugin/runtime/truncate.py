"""Cut a style model's graph short: keep only what one of its outputs needs.

onnxruntime runs every node of a graph whatever outputs are asked for, so the cheap passes
that make early normalisation statistics exact (runtime/statistics.py) need a graph of their
own: the nodes that `layer_norm_stats_<k>` depends on, nothing after them. For an early layer
of `fast` that is a tenth to a third of the work of a whole run. Those passes read the
activation that layer normalises (`normalised_activation`), not the statistics the graph
reduces it to, so that they can leave out the pixels a piece's cut edges falsify.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["normalised_activation", "truncated_model"]

#: Ops between a normalised activation and the statistics output that reports it.
_REDUCING = {
    "Cast",
    "Concat",
    "Flatten",
    "Identity",
    "ReduceMean",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
}


def truncated_model(path: str | Path, output: str) -> bytes:
    """The serialised model at `path` reduced to the nodes, inputs and initializers that
    `output` depends on, with `output` as its only output. `output` is one of the graph's
    outputs or a float32 tensor one of its nodes makes. ValueError if it has no such tensor.

    Inputs with stored defaults (initializers listed as inputs) stay inputs that callers may
    feed. Graphs with control flow keep whatever their subgraphs read from outside.
    """
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    producer = {name: node for node in graph.node for name in node.output}
    outputs = [value for value in graph.output if value.name == output]
    if not outputs and output in producer:
        outputs = [onnx.helper.make_tensor_value_info(output, onnx.TensorProto.FLOAT, None)]
    if not outputs:
        raise ValueError(f"{path} has no output {output!r}")
    needed: set[str] = set()
    kept: set[int] = set()
    pending = [output]
    while pending:
        name = pending.pop()
        if name in needed:
            continue
        needed.add(name)
        node = producer.get(name)
        if node is not None and id(node) not in kept:
            kept.add(id(node))
            pending.extend(_reads(node))
    nodes = [node for node in graph.node if id(node) in kept]
    inputs = [value for value in graph.input if value.name in needed]
    initializers = [tensor for tensor in graph.initializer if tensor.name in needed]
    del graph.node[:], graph.input[:], graph.initializer[:], graph.output[:], graph.value_info[:]
    graph.node.extend(nodes)
    graph.input.extend(inputs)
    graph.initializer.extend(initializers)
    graph.output.extend(outputs)
    return model.SerializeToString()


def normalised_activation(path: str | Path, output: str) -> str:
    """The name of the activation whose per-channel statistics the graph output `output` (a
    `layer_norm_stats_<k>`) reports: the tensor its means are reduced from. ValueError if
    `output` is not such a reduction."""
    import onnx

    graph = onnx.load(str(path)).graph
    producer = {name: node for node in graph.node for name in node.output}
    name, reduced = output, None
    while (node := producer.get(name)) is not None and node.op_type in _REDUCING and node.input:
        name = node.input[0]  # the means come first, before the variances
        if node.op_type == "ReduceMean":
            reduced = name
    if reduced is None:
        raise ValueError(f"{path}: output {output!r} is not a mean over an activation")
    return reduced


def _reads(node: Any) -> Iterator[str]:
    """The names a node reads: its inputs and, for control flow, what its subgraphs read."""
    yield from (name for name in node.input if name)
    for attribute in node.attribute:
        for subgraph in _subgraphs(attribute):
            for inner in subgraph.node:
                yield from _reads(inner)


def _subgraphs(attribute: Any) -> Iterable[Any]:
    if attribute.HasField("g"):
        yield attribute.g
    yield from attribute.graphs
