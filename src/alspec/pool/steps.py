"""The pool stage's steps, one per command: `shard` splits the survey's files into
shards, `ingest` reads one shard onto the pool's grid, `gather` checks that every file
is accounted for and writes one catalogue (workflow/rules/pool.smk)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from alspec.pool.ingest import discover_files, gather_shards, ingest_shard, write_shard_lists
from alspec.pool.preprocess import pool_grid


def shard(
    *, files: Sequence[str | Path], out: str | Path, settings: Mapping[str, Any]
) -> dict[str, int]:
    """The shard step: the survey's `files` (files, folders, globs, lists of paths) split
    into lists of pool.shard_size files, one a shard, in the folder `out`."""
    size = settings["pool"]["shard_size"]
    found = discover_files(files)
    return {"files": len(found), "shards": write_shard_lists(found, size, out), "size": size}


def ingest(
    *, shard_list: Path, out: str | Path, settings: Mapping[str, Any]
) -> tuple[int, int, int]:
    """The ingest step: the files of one shard's list onto the pool's grid (config
    pool.grid), with its metadata, into the shard's Zarr store `out`. Returns the files
    listed, spectra ingested and quarantined."""
    pool = settings["pool"]
    grid = pool_grid(pool["grid"])
    with shard_list.open() as listing:
        total = sum(1 for line in listing if line.strip())
    with shard_list.open() as listing:
        files = (Path(line.strip()) for line in listing if line.strip())
        ingested, quarantined = ingest_shard(
            files, out, grid, pool["metadata"], pool["block_size"], total
        )
    return total, ingested, quarantined


def gather(
    *, shards: Sequence[str | Path], lists: str | Path, catalog: Path, quarantine: Path
) -> pd.DataFrame:
    """The gather step: one catalogue and one quarantine table over all `shards`, after
    checking that every file of the shard `lists` is accounted for. Returns the catalogue."""
    return gather_shards(lists, shards, catalog, quarantine)
