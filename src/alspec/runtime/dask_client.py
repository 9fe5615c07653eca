"""Where the work inside a step runs, by Dask: threads inside the step, as many as the
job has (the default); an existing `dask.distributed` scheduler named by its address; or
workers started as Slurm jobs with dask-jobqueue. Every computation goes through
`compute`, which shows progress. (Where the step's own Slurm job runs:
alspec.runtime.placement.)

Inside one job, dask's threaded scheduler beats a distributed LocalCluster on this
work: measured on 10^5 spectra (results/benchmarks/features.md), the window took half
the time and a flat ~600 MB where the in-process LocalCluster grew past 1.3 GB.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dask
import xarray as xr
from dask.diagnostics import ProgressBar
from distributed import Client, progress

from alspec.errors import Unavailable
from alspec.runtime.placement import slurm_placement

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.5  # seconds between progress-bar updates
M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def steady_malloc() -> None:
    """Serve every allocation over 1 MB (a block of spectra) by mmap.

    glibc raises its mmap threshold each time such a block is freed; later blocks then
    come from the heap, fragment it, and the process grows with the number of blocks,
    i.e. with the pool. A fixed threshold keeps memory flat.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1 << 20)


def slurm_cluster(slurm: dict[str, Any]) -> Any:
    """A dask-jobqueue SLURMCluster, no job submitted yet: `slurm` holds its options
    (config dask.slurm: cores, memory, processes, walltime, queue, account) and `jobs`."""
    # imported only here: dask_jobqueue sets its own Ctrl-C handler when imported (and
    # fails to outside the main thread), which no step but one with Slurm workers wants
    from dask_jobqueue import SLURMCluster

    options = {k: v for k, v in slurm.items() if k != "jobs" and v is not None}
    return SLURMCluster(**options)


@contextlib.contextmanager
def _client(scheduler: str, slurm: dict[str, Any]) -> Iterator[None]:
    cluster = None
    if scheduler == "slurm":
        cluster = slurm_cluster(slurm)
        cluster.scale(jobs=slurm["jobs"])
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout="10s")
    except OSError as error:
        if cluster is not None:
            cluster.close()
        raise Unavailable(f"no Dask scheduler at {scheduler}: {error}") from error
    workers = client.scheduler_info()["workers"].values()
    threads = sum(worker["nthreads"] for worker in workers)
    logger.info(
        f"dask: {scheduler} scheduler at {client.scheduler.address},"
        f" {len(workers)} worker(s), {threads} thread(s)"
    )
    try:
        yield
    finally:
        # the scheduler notices a finished progress bar at its next update: wait for it,
        # so that it does not log the bar's feed as cancelled when it shuts down
        time.sleep(PROGRESS_INTERVAL)
        client.close()
        if cluster is not None:
            cluster.close()


@contextlib.contextmanager
def connect(
    scheduler: str = "local", threads: int = 0, slurm: dict[str, Any] | None = None
) -> Iterator[None]:
    """Where every Dask computation inside the `with` block runs.

    `scheduler`: "local" (`threads` threads in this process, 0: all cores); "slurm"
    (dask-jobqueue; `slurm` holds SLURMCluster's options and `jobs`, the number of
    worker jobs); or the address of a running scheduler, e.g. tcp://10.0.0.5:8786.
    """
    if scheduler != "local":
        with _client(scheduler, slurm or {}):
            yield
        return
    steady_malloc()
    threads = threads or os.cpu_count()
    logger.info(f"dask: local threads, {threads} thread(s)")
    with dask.config.set(scheduler="threads", num_workers=threads):
        yield


def configured(
    settings: Mapping[str, Any], threads: int = 0, environ: Mapping[str, str] | None = None
) -> contextlib.AbstractContextManager[None]:
    """`connect` where config `dask` says: its scheduler; Slurm workers in the queue and
    account of config `dask.slurm`, else of the workflow's own jobs (runtime.placement)."""
    dask_settings = settings["dask"]
    placement = slurm_placement(settings["slurm"], os.environ if environ is None else environ)
    workers = dask_settings["slurm"] | {
        "queue": dask_settings["slurm"]["queue"] or placement["partition"],
        "account": dask_settings["slurm"]["account"] or placement["account"],
    }
    return connect(dask_settings["scheduler"], threads, workers)


def _on_distributed() -> bool:
    return dask.config.get("scheduler", None) == "dask.distributed"


def compute(collection: Any, description: str, persist: bool = False) -> Any:
    """Compute a Dask collection where `connect` said, with a progress bar: the result,
    or with `persist` the collection held in memory (the cluster's)."""
    logger.info(f"{description}:")
    if _on_distributed():
        client = Client.current()
        held = client.persist(collection) if persist else client.compute(collection)
        progress(held, interval=PROGRESS_INTERVAL)
        print(flush=True)
        return held if persist else held.result()
    with ProgressBar(dt=PROGRESS_INTERVAL):
        return dask.persist(collection)[0] if persist else dask.compute(collection)[0]


def store(dataset: xr.Dataset, path: Path, description: str, **to_zarr: Any) -> None:
    """Write a lazy Dataset to Zarr where `connect` said, with a progress bar.

    Locally it is written as xarray computes it (to_zarr(compute=True)): computing the
    delayed write instead held ~400 MB more for 10^5 spectra, growing with the pool.
    """
    path = Path(path).resolve()  # workers elsewhere need the whole path
    if _on_distributed():
        compute(dataset.to_zarr(path, compute=False, **to_zarr), description)
        return
    logger.info(f"{description}:")
    with ProgressBar(dt=PROGRESS_INTERVAL):
        dataset.to_zarr(path, **to_zarr)
