"""The Dask steps on a real `dask.distributed` scheduler on 127.0.0.1, and out of core."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

from alspec.pool.store import open_store

from conftest import BIN, GRID, free_port, run_alspec, write_pool


@pytest.fixture
def scheduler(tmp_path):
    """A scheduler and one 2-thread worker, each its own process, as on a cluster; the
    worker runs in another directory, so paths must reach it absolute."""
    address = f"tcp://127.0.0.1:{free_port()}"
    (tmp_path / "worker").mkdir()
    logs = open(tmp_path / "dask.log", "w")  # noqa: SIM115 (closed below)
    processes = [
        subprocess.Popen(
            [
                BIN / "dask",
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":")[-1],
                "--no-dashboard",
            ],
            stdout=logs,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        ),
        subprocess.Popen(
            [BIN / "dask", "worker", address, "--nthreads", "2", "--no-dashboard"],
            stdout=logs,
            stderr=subprocess.STDOUT,
            cwd=tmp_path / "worker",
        ),
    ]
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(1, timeout=60)
    yield address
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
    logs.close()


def test_window_and_features_on_a_running_scheduler(pool, scheduler, tmp_path):
    remote = run_alspec(
        "window",
        "--pool",
        pool,
        "--out",
        tmp_path / "w.zarr",
        "--set",
        "pool.block_size=64",
        "--set",
        f"dask.scheduler={scheduler}",
    )
    assert f"scheduler at {scheduler}, 1 worker(s), 2 thread(s)" in remote.stdout
    here, there = open_store(pool / "window.zarr"), open_store(tmp_path / "w.zarr")
    np.testing.assert_array_equal(there.flux.values, here.flux.values)
    np.testing.assert_array_equal(there.id.values, here.id.values)

    options = ["--pool", pool, "--set", "features.map.method=tsne"]
    options += ["--set", "features.pca.components=3", "--set", "pool.block_size=64"]
    remote = ["--set", f"dask.scheduler={scheduler}"]
    run_alspec("features", *options, "--out", tmp_path / "remote.zarr", *remote)
    run_alspec("features", *options, "--out", tmp_path / "local.zarr", "--threads", 2)
    remote_features = xr.open_zarr(tmp_path / "remote.zarr", consolidated=False).load()
    local_features = xr.open_zarr(tmp_path / "local.zarr", consolidated=False).load()
    xr.testing.assert_allclose(remote_features, local_features, rtol=1e-4, atol=1e-4)


def test_an_unreachable_scheduler_is_named(pool, tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    result = run_alspec(
        "window",
        *("--pool", pool, "--out", tmp_path / "w.zarr", "--set", f"dask.scheduler={address}"),
        check=False,
    )
    assert result.returncode == 1
    assert f"no Dask scheduler at {address}" in result.stderr
    assert not (tmp_path / "w.zarr").exists()


# Run through a small Python process: a child forked straight from pytest would report
# pytest's own peak, which Linux carries over into the child's across exec.
MEASURE = (
    "import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL);"
    " _, status, usage = os.wait4(p.pid, 0); print(usage.ru_maxrss // 1024);"
    " sys.exit(os.waitstatus_to_exitcode(status))"
)


def peak_memory_mb(*args: object) -> int:
    """Run `alspec ARGS`; its peak resident memory in MB."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, BIN / "alspec", *map(str, args)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return int(result.stdout)


@pytest.mark.slow
def test_a_pool_larger_than_the_memory_limit_completes(tmp_path):
    limit_mb = 1000
    n = 40_000  # flux and ivar: 1,250 MB in memory
    rng = np.random.default_rng(0)

    def noisy_stars(start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        shape = (stop - start, GRID.size)
        return 1 + rng.normal(0, 0.05, shape), np.full(shape, 400.0)

    started = time.perf_counter()
    write_pool(tmp_path / "pool", n, noisy_stars, shard_size=20_000, block_size=1024)
    print(f"wrote {n} spectra in {time.perf_counter() - started:.0f} s")
    pool_mb = 2 * n * GRID.size * 4 / 2**20
    assert pool_mb > limit_mb
    window_mb = peak_memory_mb(
        "window", "--pool", tmp_path / "pool", "--out", tmp_path / "w.zarr", "--threads", 2
    )
    features_mb = peak_memory_mb(
        "features",
        "--pool",
        tmp_path / "pool",
        "--out",
        tmp_path / "f.zarr",
        "--set",
        "features.map.method=none",
        "--set",
        "features.pca.sample=5000",
        "--threads",
        2,
    )
    print(f"pool {pool_mb:.0f} MB; peak memory: window {window_mb} MB, features {features_mb} MB")
    assert open_store(tmp_path / "w.zarr").sizes["spectrum"] == n
    assert xr.open_zarr(tmp_path / "f.zarr", consolidated=False).sizes["spectrum"] == n
    assert window_mb < limit_mb and features_mb < limit_mb


def test_slurm_workers_are_jobs_with_the_configured_resources():
    from alspec.config import schema as cfg
    from alspec.runtime.dask_client import slurm_cluster

    options = cfg.default("dask", "slurm") | {"account": "be-stars", "walltime": "02:00:00"}
    cluster = slurm_cluster(options)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in ("#SBATCH -A be-stars", "#SBATCH --cpus-per-task=8", "#SBATCH -t 02:00:00"):
        assert line in script
    assert "--nthreads 8" in script and "#SBATCH -p" not in script, "no queue unless set"
