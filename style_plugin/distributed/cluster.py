"""Reaching Ray: import it with a clear error where the extra is missing, and connect quietly."""

from __future__ import annotations

import logging
import os
import socket
from types import ModuleType
from typing import Any

from style_plugin.errors import StylePluginError, one_line

__all__ = ["cluster_cpus", "connect", "import_ray"]

INSTALL_HINT = "pip install 'style-plugin[ray]'"
#: How long to wait for a cluster's address to answer before saying it does not.
REACH_TIMEOUT_S = 5.0


def import_ray() -> ModuleType:
    """The `ray` module; StylePluginError naming the extra where it is not installed."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray asks to phone home otherwise
    try:
        import ray
    except ImportError:
        raise StylePluginError(f"the Ray engine needs Ray: {INSTALL_HINT}") from None
    return ray


def connect(address: str | None = None) -> ModuleType:
    """Join the Ray cluster at `address` ('auto', 'HOST:PORT', 'ray://HOST:PORT'), or start
    one on this machine when None and RAY_ADDRESS is unset; reuse a connection already made.

    Workers' output stays in Ray's log files (onnxruntime's loader noise included); a cluster
    that cannot be reached is one StylePluginError line.
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray
    if address is not None:
        _check_reachable(address)
    try:
        ray.init(
            address=address,
            log_to_driver=False,
            logging_level=logging.ERROR,
            include_dashboard=False if address is None else None,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"at {address}" if address else "on this machine"
        reason = one_line(exc, limit=1000)
        raise StylePluginError(f"cannot reach a Ray cluster {where}: {reason}") from None
    _cluster_errors_to_stderr()
    return ray


def cluster_cpus(ray: ModuleType) -> int:
    """The CPUs the connected cluster has in all (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def _cluster_errors_to_stderr() -> None:
    """Send the cluster's error messages (a worker or node died, ...) to stderr: Ray's driver
    prints them to stdout, where the batch's summary goes."""
    from ray._private import worker  # private, so checked: a later Ray may differ

    printer = getattr(worker, "print_to_stdstream", None)
    if printer is None or getattr(printer, "to_stderr", False):
        return

    def to_stderr(data: dict, **options: Any) -> None:
        printer({**data, "is_err": True}, **options)

    to_stderr.to_stderr = True  # type: ignore[attr-defined]
    worker.print_to_stdstream = to_stderr


def _check_reachable(address: str) -> None:
    """Fail at once, not after Ray's minutes of retries, when nothing listens at HOST:PORT."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # 'auto', 'ray://...': Ray's own lookups
    try:
        socket.create_connection((host, int(port)), timeout=REACH_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StylePluginError(f"cannot reach a Ray cluster at {address}: {reason}") from None
