"""Starting or joining Ray for work that outgrows one machine (``piecelab[cluster]``).

Ray is optional and imported on first use only: the engine stays fast to import and
runs where Ray is not installed.  A local Ray started here lives in a temporary
folder of its own that is removed when the session ends, so a run leaves no debris.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

RAY_MISSING = "Ray is not installed: install the cluster extra (pip install 'piecelab[cluster]')"
LOCAL = "local"  # an address meaning "start a Ray on this machine"
QUIET_CHECK = 0.2  # s: a removed Ray folder must stay gone this long
QUIET_TIMEOUT = 15.0  # s: then give up (the folder is in /tmp, named plray-*)


class ClusterError(RuntimeError):
    """Ray is missing, cannot start, or the cluster cannot be reached."""


@dataclass(frozen=True)
class ClusterInfo:
    """What the session is connected to."""

    address: str  # "local" or what was given (auto, ray://host:port, host:port)
    workers: int  # CPUs the cluster offers to tasks
    nodes: int
    owned: bool  # started by this session (and stopped at its end)


def ray_available() -> bool:
    """Whether the cluster extra is installed (without importing Ray)."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def require_ray():
    """The ``ray`` module, or :class:`ClusterError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ClusterError(RAY_MISSING) from None
    return ray


def cluster_info(address: str = LOCAL, owned: bool = False) -> ClusterInfo:
    """The connected cluster's CPUs and nodes (Ray must be initialized)."""
    ray = require_ray()
    cpus = int(ray.cluster_resources().get("CPU", 0))
    nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
    return ClusterInfo(address, max(cpus, 1), max(nodes, 1), owned)


@contextlib.contextmanager
def ray_session(address: str | None = None, workers: int = 2) -> Iterator[ClusterInfo]:
    """Ray for the duration of a ``with`` block.

    ``address`` None or ``"local"``: start a Ray on this machine with ``workers`` CPUs,
    stopped (and its folder removed) at the end.  ``"auto"``, ``"host:port"`` or
    ``"ray://host:port"``: join that running cluster and leave it running.  A Ray the
    process already initialized is used as it is and left running.
    """
    ray = require_ray()
    if ray.is_initialized():
        yield cluster_info(address or LOCAL)
        return
    folder = None
    local = address in (None, "", LOCAL)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        if local:
            # short: Ray's socket paths must fit in 107 bytes
            folder = tempfile.mkdtemp(prefix="plray-", dir="/tmp" if os.name == "posix" else None)
            ray.init(
                num_cpus=max(1, int(workers)),
                include_dashboard=False,
                log_to_driver=False,
                configure_logging=False,
                _temp_dir=folder,
            )
        else:
            _probe(str(address))
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError…
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        what = "start a local Ray" if local else f"join the Ray cluster at {address}"
        raise ClusterError(f"cannot {what}: {exc}") from None
    try:
        yield cluster_info(LOCAL if local else str(address), owned=True)
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()
        if folder is not None:
            remove_when_quiet(folder)


def remove_when_quiet(folder: str, timeout: float = QUIET_TIMEOUT) -> bool:
    """Remove ``folder``, again while Ray's exiting processes still write into it (a
    busy machine lets a worker or log monitor outlive ``ray.shutdown()`` briefly);
    True once it has stayed gone for a moment, False if it never did in ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        shutil.rmtree(folder, ignore_errors=True)
        time.sleep(QUIET_CHECK)
        if not os.path.exists(folder):
            return True
        if time.monotonic() > deadline:
            return False


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail fast on a HOST:PORT nobody listens at: Ray itself would wait for minutes."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto" and other forms are Ray's to resolve
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterError(f"nothing answers there ({exc.strerror or exc})") from None


def task_error(exc: BaseException) -> BaseException:
    """The exception a Ray task raised, unwrapped from Ray's wrapper where it can be."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return cause
    return exc
