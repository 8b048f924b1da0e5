"""Reaching Ray: import it with a clear error where the extra is missing, check the address
before Ray sees it, connect quietly, and say what was done."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
from types import ModuleType
from typing import Any

from style_plugin.errors import StylePluginError, one_line

__all__ = ["cluster_address", "cluster_cpus", "connect", "describe_connection", "import_ray"]

INSTALL_HINT = "pip install 'style-plugin[ray]'"
#: How long to wait for a cluster's address to answer before saying it does not.
REACH_TIMEOUT_S = 5.0
#: The addresses `connect` joins; without one, it starts a Ray on this machine.
ADDRESS_FORMS = "auto, HOST:PORT or ray://HOST:PORT"
_CLIENT = "ray://"


def import_ray() -> ModuleType:
    """The `ray` module; StylePluginError naming the extra where it is not installed."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray asks to phone home otherwise
    try:
        import ray
    except ImportError:
        raise StylePluginError(f"the Ray engine needs Ray: {INSTALL_HINT}") from None
    return ray


def cluster_address(address: str | None) -> str | None:
    """The cluster to join: `address`, else RAY_ADDRESS, else None (a Ray of its own on this
    machine). A malformed address is one StylePluginError line here, before Ray or the
    network is asked (Ray would print a traceback, or wait minutes, for some)."""
    origin = ""
    if address is None:
        address = os.environ.get("RAY_ADDRESS") or None
        origin = "RAY_ADDRESS: "
    if address is None or address == "auto":
        return address
    problem = _address_problem(address)
    if problem is not None:
        raise StylePluginError(f"{origin}not a Ray cluster address: {address!r} ({problem})")
    return address


def _address_problem(address: str) -> str | None:
    """Why `address` is not HOST:PORT or ray://HOST:PORT, or None when it is."""
    host, colon, port = address.removeprefix(_CLIENT).rpartition(":")
    if not (colon and host) or "/" in host:
        return f"expected {ADDRESS_FORMS}"
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        return "the port is a number from 1 to 65535"
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return "not an IPv6 address in brackets"
        return None
    try:
        host.encode("idna")  # what the resolver does: each part 1 to 63 characters
    except UnicodeError:
        return "a host name is parts of 1 to 63 characters between dots"
    return None


def connect(address: str | None = None) -> ModuleType:
    """Join the Ray cluster at `address` ('auto', 'HOST:PORT', 'ray://HOST:PORT'; None:
    RAY_ADDRESS), or start one on this machine when neither names one; reuse a connection
    already made.

    Workers' output stays in Ray's log files (onnxruntime's loader noise included); an
    address that is malformed or cannot be reached is one StylePluginError line.
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = cluster_address(address)
    if address is not None:
        _check_reachable(address)
    try:
        ray.init(
            address=address or "local",  # not whatever cluster Ray would find by itself
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


def describe_connection(ray: ModuleType, address: str | None) -> str:
    """What a first `connect(address)` did: 'started a local Ray with 8 CPUs', or 'joined the
    Ray cluster at HOST:PORT (32 CPUs on 2 nodes)' (`address` as `cluster_address` gives it)."""
    cpus = _count(cluster_cpus(ray), "CPU")
    if address is None:
        return f"started a local Ray with {cpus}"
    if address == "auto":
        address = ray.get_runtime_context().gcs_address
    nodes = _count(sum(1 for node in ray.nodes() if node.get("Alive")), "node")
    return f"joined the Ray cluster at {address} ({cpus} on {nodes})"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


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
    """Fail at once, not after Ray's minutes of retries, when nothing listens at HOST:PORT
    (an address `cluster_address` passed)."""
    if address == "auto" or address.startswith(_CLIENT):
        return  # Ray's own lookups
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=REACH_TIMEOUT_S).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StylePluginError(f"cannot reach a Ray cluster at {address}: {reason}") from None
