"""Shared fixtures: a tiny simulated survey, its pool, and a real Label Studio server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from alspec.config import schema as cfg
from alspec.io import as_strings
from alspec.pool.ingest import discover_files, ingest_shard, write_shard_lists
from alspec.pool.ingest import gather_shards as gather
from alspec.pool.preprocess import pool_grid
from alspec.pool.store import COMPRESSOR, append_block
from alspec.survey.simulate import simulate_survey
from alspec.survey.stars import SurveyModel

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLASSES = ["other", "single_peak", "double_peak"]
INTEREST = ["single_peak", "double_peak"]
GRID = pool_grid(cfg.default("pool", "grid"))
TINY = {  # a workflow run in about a minute: 300 spectra, 10 % emission, a slim CNN
    "iterations": 2,
    "simulate": {"n_spectra": 300, "seed": 3, "rates": {"single_peak": 0.05, "double_peak": 0.05}},
    "initial": {"size": 40},
    "model": {"architecture": "slim", "epochs": 4, "batch_size": 16},
    "query": {"batch_size": 25, "estimate_sample": 16},
}
SHARDED = TINY | {"pool": {"shard_size": 50}}  # six ingest jobs for 300 spectra
# Debian's chromium, driven by Playwright (the labelling page, the HTML report); with no
# network here, its background connections are turned off.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SCREENSHOTS = REPO / "results" / "screenshots"


def survey_model(**chosen: object) -> SurveyModel:
    """The survey of the schema's config `simulate`, with the `chosen` settings."""
    return SurveyModel.from_config(cfg.default("simulate") | chosen)


def run_alspec(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the `alspec` command as a user would, from this environment."""
    result = subprocess.run(
        [str(BIN / "alspec"), *map(str, args)], capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"alspec {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def survey(tmp_path_factory) -> Path:
    """200 simulated LAMOST spectra, a fifth of them with emission, and their truth."""
    out = tmp_path_factory.mktemp("survey")
    survey = survey_model(rates={"single_peak": 0.1, "double_peak": 0.1}, snr=(20, 80))
    simulate_survey(out, 200, survey, seed=7)
    return out


Block = Callable[[int, int], tuple[np.ndarray, np.ndarray]]


def write_pool(pool_dir: Path, n: int, spectra: Block, shard_size: int, block_size: int) -> None:
    """A pool as ingest and gather write it, of `n` spectra on GRID: `spectra(start, stop)`
    gives the flux and ivar of rows start..stop, so a large pool is written block by block."""
    encoding = {"chunks": (block_size, GRID.size), "compressors": [COMPRESSOR]}
    rows = []
    for number, first in enumerate(range(0, n, shard_size)):
        shard = f"{number:05d}"
        last = min(first + shard_size, n)
        for start in range(first, last, block_size):
            stop = min(start + block_size, last)
            flux, ivar = spectra(start, stop)
            ids = [f"synthetic-{i:07d}" for i in range(start, stop)]
            block = xr.Dataset(
                {
                    "flux": (("spectrum", "wavelength"), flux.astype(np.float32)),
                    "ivar": (("spectrum", "wavelength"), ivar.astype(np.float32)),
                },
                coords={"id": ("spectrum", as_strings(ids)), "wavelength": GRID},
            )
            store = pool_dir / "shards" / shard / "spectra.zarr"
            append_block(block, store, {"flux": encoding, "ivar": encoding})
            rows += [
                {"id": i, "shard": shard, "row": len(rows) - first + k} for k, i in enumerate(ids)
            ]
    pd.DataFrame(rows).to_parquet(pool_dir / "catalog.parquet", index=False)


def build_pool(specs: list, pool_dir: Path, shard_size: int, metadata=("SUBCLASS", "SNRR")):
    """Shard, ingest every shard and gather, as the workflow does."""
    lists = pool_dir / "shards" / "lists"
    write_shard_lists(discover_files(specs), shard_size, lists)
    for shard_list in sorted(lists.iterdir()):
        files = [Path(line) for line in shard_list.read_text().splitlines()]
        ingest_shard(files, pool_dir / "shards" / shard_list.stem, GRID, list(metadata), 64)
    shards = sorted(p for p in (pool_dir / "shards").iterdir() if p.name != "lists")
    return gather(lists, shards, pool_dir / "catalog.parquet", pool_dir / "quarantine.parquet")


@pytest.fixture(scope="session")
def pool(survey, tmp_path_factory) -> Path:
    """The survey ingested in two shards, with its Hα window."""
    out = tmp_path_factory.mktemp("pool")
    build_pool([survey / "spectra"], out, shard_size=120)
    run_alspec("window", "--pool", out, "--out", out / "window.zarr", "--set", "pool.block_size=64")
    return out


def project(path: Path, overrides: dict) -> Path:
    """A project directory: the demo config, plus `overrides` in tiny.yaml."""
    (path / "config").mkdir()
    shutil.copy(REPO / "config" / "config.yaml", path / "config" / "config.yaml")
    (path / "tiny.yaml").write_text(yaml.safe_dump(overrides))
    return path


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """The repository's workflow run in `workdir` with its tiny.yaml, as a user would."""
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(workdir)}
    command = [
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "tiny.yaml"),
        "--cores",
        "2",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


@dataclass(frozen=True)
class TinyRun:
    """The sharded tiny workflow, run as a user would: first up to iteration 1's batch
    (which built `built_first`, paths under results/), then to the end (`whole`)."""

    workdir: Path
    built_first: frozenset[str]
    whole: subprocess.CompletedProcess


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> TinyRun:
    """One finished run shared by the workflow and reproducibility tests (each would
    otherwise run the same workflow again, minutes of CI)."""
    workdir = project(tmp_path_factory.mktemp("tiny_run"), SHARDED)
    numbered = snakemake(workdir, "results/iterations/1/query.parquet")
    assert numbered.returncode == 0, numbered.stderr[-3000:]
    results = workdir / "results"
    built_first = frozenset(str(p.relative_to(results)) for p in results.rglob("*"))
    whole = snakemake(workdir)
    assert whole.returncode == 0, whole.stderr[-3000:]
    return TinyRun(workdir, built_first, whole)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def labelstudio(tmp_path_factory):
    """A real Label Studio server on 127.0.0.1, started and stopped by scripts/labelstudio."""
    home = tmp_path_factory.mktemp("labelstudio")
    env = os.environ | {
        "ALSPEC_LS_PORT": str(free_port()),
        "ALSPEC_LS_DATA": str(home / "data"),
        "ALSPEC_LS_SECRETS": str(home / "secrets"),
        "ALSPEC_LS_FILES": str(home / "files"),
    }
    for name in ("LABEL_STUDIO_API_KEY", "LABEL_STUDIO_USERNAME", "LABEL_STUDIO_PASSWORD"):
        env.pop(name, None)
    script = REPO / "scripts" / "labelstudio"
    started = subprocess.run([script, "start"], env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield {
            "url": f"http://127.0.0.1:{env['ALSPEC_LS_PORT']}",
            "token_file": home / "secrets" / "token",
            "files": home / "files",
            "env": env,
        }
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, check=False)


@pytest.fixture
def topcat(tmp_path):
    """A real SAMP hub on 127.0.0.1 and a client that takes tables, as TOPCAT does: its
    address for $SAMP_HUB, what the client received and when it did."""
    from pyvo.samp import SAMPHubServer, SAMPIntegratedClient

    lockfile = tmp_path / "samp-lock"
    hub = SAMPHubServer(web_profile=False, lockfile=str(lockfile), addr="127.0.0.1", pool_size=2)
    hub.start()
    received, arrived = {}, threading.Event()

    def take(private_key, sender_id, msg_id, mtype, params, extra):
        received.update(params)
        arrived.set()

    viewer = SAMPIntegratedClient(name="topcat")
    try:
        viewer.connect(hub=hub)
        viewer.bind_receive_notification("table.load.votable", take)
        yield SimpleNamespace(
            hub=f"std-lockurl:{lockfile.as_uri()}", received=received, arrived=arrived
        )
    finally:
        viewer.disconnect()
        hub.stop()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
