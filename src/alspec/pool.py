"""The pool: every spectrum of the survey on one wavelength grid, in a Zarr store.

`ingest` streams spectrum files into `spectra.zarr` (dims `spectrum` x `wavelength`,
variables `flux` and `ivar`, coordinate `id`) block by block, so memory does not grow
with the pool; `window` derives the normalised spectral window the CNN reads.
Both write aside and move the store into place only when complete.
"""

from __future__ import annotations

import glob
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm

from alspec.formats import SpectrumFileError, read_lamost
from alspec.io import atomic_output, write_table
from alspec.preprocess import extract_window, resample, standardise

FITS_SUFFIXES = (".fits", ".fit", ".fits.gz", ".fit.gz")


def discover_files(specs: Sequence[str | Path]) -> list[Path]:
    """The spectrum files named by `specs`, each a FITS file, a directory, a glob, or a
    text file listing one path a line (how a survey of millions of files is named)."""
    files: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            files += [p for p in path.iterdir() if p.name.lower().endswith(FITS_SUFFIXES)]
        elif path.is_file() and not path.name.lower().endswith(FITS_SUFFIXES):
            lines = (line.strip() for line in path.read_text().splitlines())
            files += [Path(line) for line in lines if line and not line.startswith("#")]
        elif path.is_file():
            files.append(path)
        else:
            files += [Path(p) for p in glob.glob(str(spec))]
    if not files:
        raise FileNotFoundError(f"pool.files: {' '.join(map(str, specs))} names no spectrum files")
    return sorted(set(files))


@dataclass
class _Block:
    """Spectra accumulated until they fill one Zarr chunk."""

    flux: list[np.ndarray] = field(default_factory=list)
    ivar: list[np.ndarray] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def ingest(
    files: Sequence[Path],
    store: str | Path,
    catalog_path: str | Path,
    quarantine_path: str | Path,
    grid: np.ndarray,
    metadata: Sequence[str],
    block_size: int,
) -> pd.DataFrame:
    """Read, resample and store every spectrum; unreadable files go to the quarantine table."""
    catalog, quarantine, seen = [], [], {}
    with atomic_output(store) as tmp:
        block = _Block()
        for path in tqdm(files, desc="ingest", unit="files", mininterval=2):
            try:
                spectrum = read_lamost(path)
            except SpectrumFileError as error:
                quarantine.append({"file": str(path), "reason": str(error)})
                continue
            if spectrum.id in seen:
                reason = f"duplicate id {spectrum.id}, first read from {seen[spectrum.id]}"
                quarantine.append({"file": str(path), "reason": reason})
                continue
            seen[spectrum.id] = path
            flux, ivar = resample(spectrum.wavelength, spectrum.flux, spectrum.weights(), grid)
            block.flux.append(flux)
            block.ivar.append(ivar)
            block.ids.append(spectrum.id)
            catalog.append(
                {"id": spectrum.id, "file": str(path), "row": len(catalog)}
                | {key.lower(): spectrum.header.get(key) for key in metadata}
            )
            if len(block) == block_size:
                _append(tmp, block, grid, block_size)
                block = _Block()
        if len(block):
            _append(tmp, block, grid, block_size)
        write_table(pd.DataFrame(quarantine, columns=["file", "reason"]), quarantine_path)
        if not catalog:
            raise ValueError(
                f"no readable spectrum among {len(files)} files: see {quarantine_path}"
            )
    if quarantine:
        warnings.warn(f"{len(quarantine)} file(s) quarantined, see {quarantine_path}", stacklevel=2)
    catalog = pd.DataFrame(catalog)
    write_table(catalog, catalog_path)
    return catalog


def _append(store: Path, block: _Block, grid: np.ndarray, block_size: int) -> None:
    dims = ("spectrum", "wavelength")
    data = xr.Dataset(
        {
            "flux": (dims, np.asarray(block.flux, dtype=np.float32).reshape(-1, grid.size)),
            "ivar": (dims, np.asarray(block.ivar, dtype=np.float32).reshape(-1, grid.size)),
        },
        coords={"id": ("spectrum", as_ids(block.ids)), "wavelength": grid},
        attrs={"description": "alspec pool: spectra resampled onto a common vacuum grid"},
    )
    data.wavelength.attrs["units"] = "Angstrom"
    if (store / "zarr.json").exists():
        data.to_zarr(store, append_dim="spectrum", consolidated=False)
    else:
        chunks = {"chunks": (block_size, grid.size)}
        data.to_zarr(store, mode="w", consolidated=False, encoding={"flux": chunks, "ivar": chunks})


def as_ids(ids: Sequence[str] | np.ndarray) -> np.ndarray:
    """Spectrum ids as variable-length strings (Zarr v3 `string`): ids differ in length."""
    return np.asarray(ids, dtype=object)


def open_pool(store: str | Path) -> xr.Dataset:
    """The pool (or its window) as a lazily loaded xarray Dataset with named dimensions."""
    with warnings.catch_warnings():
        # Snakemake marks directory outputs with a .snakemake_timestamp file.
        warnings.filterwarnings("ignore", "Object at .snakemake_timestamp is not recognized")
        return xr.open_zarr(store, consolidated=False, chunks=None)


def iter_blocks(n: int, block_size: int, desc: str) -> Iterator[slice]:
    """Row slices of `block_size`, with a progress bar: how every step streams the pool."""
    with tqdm(total=n, desc=desc, unit="spectra", mininterval=2) as progress:
        for start in range(0, n, block_size):
            stop = min(start + block_size, n)
            yield slice(start, stop)
            progress.update(stop - start)


def window(
    pool_store: str | Path,
    out_store: str | Path,
    grid: np.ndarray,
    block_size: int,
    min_coverage: float = 0.5,
) -> None:
    """Write the standardised window of every spectrum (dims `spectrum` x `window_wavelength`).

    `valid` marks spectra whose window has usable pixels over at least `min_coverage`
    of its length; the others keep NaN and are never classified.
    """
    pool = open_pool(pool_store)
    n = pool.sizes["spectrum"]
    wavelength = pool.wavelength.values
    dims = ("spectrum", "window_wavelength")
    with atomic_output(out_store) as tmp:
        for rows in iter_blocks(n, block_size, "window"):
            flux, coverage = extract_window(
                wavelength, pool.flux[rows].values, pool.ivar[rows].values, grid
            )
            valid = coverage >= min_coverage
            flux[valid] = standardise(flux[valid])
            flux[~valid] = np.nan
            block = xr.Dataset(
                {
                    "flux": (dims, flux),
                    "coverage": ("spectrum", coverage.astype(np.float32)),
                    "valid": ("spectrum", valid),
                },
                coords={
                    "id": ("spectrum", as_ids(pool.id[rows].values)),
                    "window_wavelength": grid,
                },
            )
            if rows.start == 0:
                encoding = {"flux": {"chunks": (block_size, grid.size)}}
                block.to_zarr(tmp, mode="w", consolidated=False, encoding=encoding)
            else:
                block.to_zarr(tmp, append_dim="spectrum", consolidated=False)


def select(store: str | Path, ids: Sequence[str]) -> xr.Dataset:
    """The rows of `ids`, in that order; reads only the chunks that hold them."""
    data = open_pool(store)
    position = pd.Series(np.arange(data.sizes["spectrum"]), index=data.id.values)
    missing = [i for i in ids if i not in position.index]
    if missing:
        raise KeyError(f"{store}: {len(missing)} id(s) not in the pool, e.g. {missing[:5]}")
    rows = position.loc[list(ids)].to_numpy()
    order = np.argsort(rows)
    picked = data.isel(spectrum=rows[order]).load()
    return picked.isel(spectrum=np.argsort(order))
