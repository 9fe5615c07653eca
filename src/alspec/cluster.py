"""Where Dask runs: a local cluster sized to the step's threads (the default), an existing
`dask.distributed` scheduler named by its address, or workers started as Slurm jobs
with dask-jobqueue. Every computation goes through `compute`, which shows progress.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # distributed loads only in the steps that use Dask
    from distributed import Client

PROGRESS_INTERVAL = 0.5  # seconds between progress-bar updates


class SchedulerUnavailable(RuntimeError):
    """The configured scheduler cannot be reached."""


def _cluster(scheduler: str, threads: int, slurm: dict[str, Any]) -> Any:
    if scheduler == "local":
        from distributed import LocalCluster

        # One in-process worker: the numpy work releases the GIL, and nothing is copied
        # between processes.
        return LocalCluster(
            n_workers=1,
            threads_per_worker=threads or os.cpu_count(),
            processes=False,
            dashboard_address=None,
        )
    if scheduler == "slurm":
        from dask_jobqueue import SLURMCluster

        options = dict(slurm)
        jobs = options.pop("jobs")
        cluster = SLURMCluster(**{k: v for k, v in options.items() if v is not None})
        cluster.scale(jobs=jobs)
        return cluster
    return None


@contextlib.contextmanager
def connect(
    scheduler: str = "local", threads: int = 0, slurm: dict[str, Any] | None = None
) -> Iterator[Client]:
    """A client, the default for every Dask computation inside the `with` block.

    `scheduler`: "local"; "slurm" (dask-jobqueue, `slurm` holds SLURMCluster's options
    and `jobs`, the number of worker jobs); or an address such as tcp://10.0.0.5:8786.
    """
    from distributed import Client

    cluster = _cluster(scheduler, threads, slurm or {})
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout="10s")
    except OSError as error:
        if cluster is not None:
            cluster.close()
        raise SchedulerUnavailable(f"no Dask scheduler at {scheduler}: {error}") from error
    workers = client.scheduler_info()["workers"].values()
    threads = sum(worker["nthreads"] for worker in workers)
    print(
        f"dask: {scheduler} scheduler at {client.scheduler.address},"
        f" {len(workers)} worker(s), {threads} thread(s)",
        flush=True,
    )
    try:
        yield client
    finally:
        # the scheduler notices a finished progress bar at its next update: wait for it,
        # so that it does not log the bar's feed as cancelled when it shuts down
        time.sleep(PROGRESS_INTERVAL)
        client.close()
        if cluster is not None:
            cluster.close()


def compute(collection: Any, description: str, persist: bool = False) -> Any:
    """Compute a Dask collection on the current client with a progress bar: the result
    here, or with `persist` the collection held in the cluster's memory."""
    from distributed import Client, progress

    client = Client.current()
    print(f"{description}:", flush=True)
    if persist:
        held = client.persist(collection)
        progress(held, interval=PROGRESS_INTERVAL)
        print(flush=True)
        return held
    future = client.compute(collection)
    progress(future, interval=PROGRESS_INTERVAL)
    print(flush=True)
    return future.result()
