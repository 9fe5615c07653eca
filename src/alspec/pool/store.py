"""The pool's Zarr stores as xarray Datasets: one shard, the window or features store, or
every spectrum of the pool at once, read lazily, and the rows of given ids.

Snakemake marks a finished directory output with a `.snakemake_timestamp` file, which
Zarr takes for a stranger in the store and warns about whenever the store is opened.
The file is Snakemake's bookkeeping and harmless to Zarr, so that one warning is
silenced for the whole process here, where every store is opened.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm
from zarr.codecs import BloscCodec

from alspec.errors import InputError
from alspec.layout import CATALOG, SHARD_STORE, SHARDS, SNAKEMAKE_MARKER

warnings.filterwarnings("ignore", f"Object at {SNAKEMAKE_MARKER} is not recognized")

# Measured on noisy spectra (scripts/benchmark_ingest.py): the fastest to write and read,
# 21 of 31 KB per spectrum; zstd compresses less and writes 2-3 times slower.
COMPRESSOR = BloscCodec(cname="lz4", clevel=5, shuffle="bitshuffle")


def open_store(store: str | Path) -> xr.Dataset:
    """One Zarr store (a shard, or the window) as a lazily loaded xarray Dataset."""
    return xr.open_zarr(store, consolidated=False, chunks=None)


def append_block(block: xr.Dataset, store: Path, encoding: dict) -> None:
    """Append a block of spectra to a store, creating it (with `encoding`) at the first."""
    if store.exists():
        block.to_zarr(store, append_dim="spectrum", consolidated=False)
    else:
        block.to_zarr(store, mode="w", consolidated=False, encoding=encoding)


def open_pool(pool_dir: str | Path) -> xr.Dataset:
    """Every spectrum of the pool as one Dataset (dims spectrum x wavelength), in the order
    of its catalogue; dask arrays, so nothing is read until asked for."""
    pool_dir = Path(pool_dir)
    catalog = pd.read_parquet(pool_dir / CATALOG, columns=["shard", "row"])
    parts = []
    for shard, rows in catalog.groupby("shard", sort=True):
        data = xr.open_zarr(pool_dir / SHARDS / shard / SHARD_STORE, consolidated=False, chunks={})
        keep = rows["row"].to_numpy()
        parts.append(data if len(keep) == data.sizes["spectrum"] else data.isel(spectrum=keep))
    # join="exact": every shard must be on the same wavelength grid
    pool = xr.concat(
        parts, dim="spectrum", data_vars="all", coords="minimal", compat="override", join="exact"
    )
    for variable in pool.variables.values():
        variable.encoding = {}  # a shard's Zarr chunks are not the pool's: whoever writes sets them
    return pool


def iter_blocks(n: int, block_size: int, desc: str) -> Iterator[slice]:
    """Row slices of `block_size`, with a progress bar: how every step streams the pool."""
    with tqdm(total=n, desc=desc, unit="spectra", mininterval=2) as progress:
        for start in range(0, n, block_size):
            stop = min(start + block_size, n)
            yield slice(start, stop)
            progress.update(stop - start)


def select(stores: Sequence[str | Path], ids: Sequence[str]) -> xr.Dataset:
    """The rows of `ids`, in that order, from whichever of the window `stores` holds each
    (the pool's, an external labelled set's); reads only the chunks that hold them."""
    parts, found = [], {}
    for store in stores:
        data = open_store(store)
        position = pd.Series(np.arange(data.sizes["spectrum"]), index=data.id.values)
        here = [i for i in ids if i in position.index and i not in found]
        rows = np.sort(position.loc[here].to_numpy())
        parts.append(data.isel(spectrum=rows).load())
        found.update(dict.fromkeys(here))
    missing = [i for i in ids if i not in found]
    if missing:
        names = ", ".join(map(str, stores))
        raise InputError(f"{names}: {len(missing)} id(s) not in the pool, e.g. {missing[:5]}")
    picked = xr.concat(parts, dim="spectrum", coords="minimal", compat="override")
    order = pd.Series(np.arange(picked.sizes["spectrum"]), index=picked.id.values)
    return picked.isel(spectrum=order.loc[list(ids)].to_numpy())
