"""Where the offices of a company are planned: this machine's processes or a Dask cluster.

``--cluster local:N`` starts a Dask ``LocalCluster`` of N worker processes bound to 127.0.0.1
(nothing listens beyond this machine); ``--cluster tcp://HOST:8786`` uses a scheduler the
company already runs (``dask-scheduler`` and ``dask-worker tcp://HOST:8786 --nthreads 1`` on
each machine, every one with routeplan installed). Each task is one office's month: it sends
the office's scenario (its shops, team, calendar and rules: about 0.14 MB per 1,000 shops) and
gets back its plan (about 0.28 MB per 1,000 shops); no file is read or written on the workers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor
from urllib.parse import urlsplit

from .errors import InputError

#: Largest local cluster: more workers than this on one machine only thrash.
MAX_LOCAL_WORKERS = 64


@contextlib.contextmanager
def executor_for(spec: str | None) -> Iterator[tuple[Executor | None, int | None]]:
    """The executor named by ``--cluster`` and how many tasks it runs at once (``None``, ``None``:
    this machine's worker processes, as without the option)."""
    if spec is None:
        yield None, None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("--cluster needs Dask: pip install 'routeplan[cluster]'", field="cluster") from None
    if spec.startswith("local:"):
        count = spec.removeprefix("local:")
        if not count.isdigit() or not 1 <= int(count) <= MAX_LOCAL_WORKERS:
            raise InputError(f"'{spec}': give local:N with N from 1 to {MAX_LOCAL_WORKERS}", field="cluster")
        with (
            LocalCluster(
                n_workers=int(count), threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            ) as cluster,  # fmt: skip
            Client(cluster) as client,
        ):
            yield client.get_executor(), int(count)
        return
    if not _scheduler_address(spec):
        raise InputError(f"'{spec}': give local:N or a scheduler address like tcp://HOST:8786", field="cluster")
    try:
        client = Client(spec, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {spec} ({exc})", field="cluster") from None
    with client:
        threads = sum(client.nthreads().values())
        yield client.get_executor(), max(1, threads)


def _scheduler_address(spec: str) -> bool:
    """Whether ``spec`` reads as a Dask scheduler address: a protocol and a host, with a port or not."""
    parts = urlsplit(spec)
    try:
        parts.port  # noqa: B018 - raises on a port that is no number or out of range
    except ValueError:
        return False
    return "://" in spec and bool(parts.scheme) and bool(parts.hostname)
