"""`style-plugin stylize --engine ray`: the local batch's files and rules, the work on a cluster.

This machine (the driver) plans the outputs exactly as the local engine does, reads each
input's bytes and writes each output's; a Ray task per image decodes, stylizes and encodes
on whichever node has a free CPU (or GPU). Only compressed bytes travel, so the nodes need
no shared file system, and the outputs are byte for byte the local engine's. A task whose
worker or node dies is run again elsewhere (Ray's retries); its output is written once, by
the driver, atomically, and an existing file is never replaced unless asked.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from style_plugin.distributed.cluster import cluster_cpus, connect
from style_plugin.distributed.portable import PortableJob
from style_plugin.runtime.batch import (
    Ledger,
    encode_output,
    format_refusal,
    input_notes,
    planned,
    write_output,
)
from style_plugin.runtime.inputs import InputItem
from style_plugin.runtime.options import BatchOptions
from style_plugin.runtime.outputs import PlannedItem
from style_plugin.runtime.reading import open_image_bytes, read_image_bytes
from style_plugin.runtime.report import BatchEvents, BatchReport, failure_reason

__all__ = ["IN_FLIGHT_PER_CPU", "TASK_RETRIES", "node_line", "run_batch_on_ray", "spread_task"]

#: How many times Ray runs an image again after its worker or node died.
TASK_RETRIES = 3
#: Images read and in flight per CPU of the cluster: enough to keep every CPU busy while
#: results come back, few enough to bound the driver's memory.
IN_FLIGHT_PER_CPU = 2


@dataclass
class Shipped:
    """What a task sends back: the output file's bytes or why it failed, the input's notes,
    and the node that did the work."""

    data: bytes | None
    failure: str | None
    notes: list[str] = field(default_factory=list)
    node: str = ""


def stylize_shipped(
    job: PortableJob, data: bytes, plan: PlannedItem, options: BatchOptions, verb: str
) -> Shipped:
    """One image on a worker: decode the input's bytes, stylize, encode the output's bytes."""
    import ray

    node = ray.get_runtime_context().get_node_id()
    name = plan.item.path
    notes: list[str] = []
    try:
        decoded = open_image_bytes(
            data, name, allow_large=options.allow_large, draft_side=options.draft_side
        )
        notes = input_notes(decoded, verb, job.settings.no_effect_on)
        refusal = format_refusal(plan, decoded)
        if refusal is not None:
            return Shipped(None, refusal, notes, node)
        return Shipped(encode_output(job.run(decoded), plan, options), None, notes, node)
    except Exception as exc:  # reported per item; the batch goes on
        return Shipped(None, failure_reason(exc, name), notes, node)


def run_batch_on_ray(
    job: PortableJob,
    items: Sequence[InputItem] | Sequence[PlannedItem],
    options: BatchOptions,
    events: BatchEvents | None = None,
    cancel: Callable[[], bool] | None = None,
    *,
    verb: str = "stylized",
    address: str | None = None,
) -> BatchReport:
    """`run_batch` with the work spread over the Ray cluster at `address` (see `connect`).

    Same plan, names, skips, failures and report as the local engine; `cancel()` returning
    True stops submitting and cancels the images in flight. The report's notes end with how
    many images each node did.
    """
    plans = planned(items, options)
    ray = connect(address)
    return _RayRunner(ray, job, options, events or BatchEvents(), cancel, verb).run(plans)


class _RayRunner:
    """One batch on Ray: a window of tasks in flight, results written as they come back."""

    def __init__(
        self,
        ray: Any,
        job: PortableJob,
        options: BatchOptions,
        events: BatchEvents,
        cancel: Callable[[], bool] | None,
        verb: str,
    ) -> None:
        self.ray = ray
        self.options = options
        self.events = events
        self.cancel = cancel
        self.ledger = Ledger(events, verb)
        self.job_ref = ray.put(job)
        self.task, self.window = spread_task(ray, stylize_shipped, job)
        self.nodes: Counter[str] = Counter()

    def cancelled(self) -> bool:
        if self.cancel is not None and self.cancel():
            self.ledger.report.cancelled = True
        return self.ledger.report.cancelled

    def submit(self, plan: PlannedItem, in_flight: dict[Any, PlannedItem]) -> None:
        """Read `plan`'s input and send it off, or record why it needs no work or cannot."""
        if self.ledger.settle(plan):
            return
        try:
            data = read_image_bytes(plan.item.path)
        except Exception as exc:
            self.ledger.fail(plan, exc)
            return
        verb = self.ledger.report.verb
        ref = self.task.remote(self.job_ref, data, plan, self.options, verb)
        in_flight[ref] = plan
        self.events.working(plan.item.path)

    def receive(self, plan: PlannedItem, ref: Any) -> None:
        """Write one finished image's output, or record why it failed."""
        try:
            shipped: Shipped = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            why = failure_reason(exc, plan.item.path)
            self.ledger.finish(plan, "failed", f"Ray could not run it ({why})")
            return
        self.ledger.note(plan.item.path, shipped.notes)
        if shipped.failure is not None:
            self.ledger.finish(plan, "failed", shipped.failure)
            return
        assert shipped.data is not None
        try:
            write_output(shipped.data, plan, self.options)
        except Exception as exc:
            self.ledger.fail(plan, exc)
            return
        self.nodes[shipped.node] += 1
        self.ledger.finish(plan, "done", str(plan.output))

    def run(self, plans: list[PlannedItem]) -> BatchReport:
        started = time.perf_counter()
        queue = deque(plans)
        in_flight: dict[Any, PlannedItem] = {}
        self.events.begin(len(queue))
        try:
            while True:
                while queue and len(in_flight) < self.window and not self.cancelled():
                    self.submit(queue.popleft(), in_flight)
                if not in_flight or self.cancelled():
                    break
                ready, _ = self.ray.wait(list(in_flight), num_returns=1, timeout=0.5)
                for ref in ready:
                    self.receive(in_flight.pop(ref), ref)
        finally:
            for ref in in_flight:  # stopped early: nothing of theirs is written
                self.ray.cancel(ref)
            report = self.ledger.report
            report.seconds = time.perf_counter() - started
            if self.nodes:
                self.ledger.note(Path("ray"), [node_line(self.nodes, "image", report.verb)])
            self.events.end(report)
        return report


def spread_task(ray: Any, function: Callable[..., Any], job: PortableJob) -> tuple[Any, int]:
    """`function` as a Ray task with `job`'s CPUs and GPUs, retried, spread over every node
    from the start (not the driver's first), and how many tasks to keep in flight."""
    task = ray.remote(function).options(
        num_cpus=job.threads,
        num_gpus=job.gpus,
        max_retries=TASK_RETRIES,
        scheduling_strategy="SPREAD",
    )
    return task, IN_FLIGHT_PER_CPU * max(1, cluster_cpus(ray) // job.threads)


def node_line(nodes: Counter[str], thing: str, verb: str) -> str:
    """How many `thing`s (tasks) each node did: `node_line(nodes, "image", "stylized")` is
    '8 images stylized on 2 nodes (5 on 1a2b3c4d, 3 on 5e6f7a8b)'."""
    total = sum(nodes.values())
    shares = ", ".join(f"{count} on {node[:8]}" for node, count in nodes.most_common())
    things = f"{total} {thing}{'' if total == 1 else 's'}"
    count = len(nodes)
    return f"{things} {verb} on {count} node{'' if count == 1 else 's'} ({shares})"
