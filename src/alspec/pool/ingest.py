"""Ingest: every spectrum of the survey onto one wavelength grid, in sharded Zarr stores.

A survey of millions of files is ingested by shards, each one job, so that many run at
once on a cluster. Under the pool directory (results/pool):

    shards/lists/<shard>.txt        the files of each shard (`write_shard_lists`)
    shards/<shard>/spectra.zarr     its spectra: dims spectrum x wavelength, flux and ivar
    shards/<shard>/catalog/*.parquet  its catalogue, one part per block of spectra
    shards/<shard>/quarantine.parquet what it could not ingest, and why
    catalog.parquet, quarantine.parquet   gathered over all shards (`gather_shards`)

A shard is written aside and moved into place whole, so a job killed midway leaves
nothing behind; its memory is one block deep whatever its size. `open_pool` shows all
shards as one xarray Dataset (alspec.pool.store); the catalogue is its index.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from astropy.coordinates import Angle
from tqdm import tqdm

from alspec.errors import MissingInput, ReconciliationError
from alspec.io import as_strings, atomic_output, write_table
from alspec.layout import QUARANTINE, SHARD_CATALOG, SHARD_STORE
from alspec.pool.formats import (
    DEC_KEYS,
    RA_KEYS,
    SPECTRUM_SUFFIXES,
    Rejected,
    Spectrum,
    read_spectra,
)
from alspec.pool.preprocess import air_to_vacuum, resample
from alspec.pool.store import COMPRESSOR, append_block, open_store

logger = logging.getLogger(__name__)

QUARANTINE_COLUMNS = ["file", "row", "id", "reason"]
# Catalogue columns that locate a spectrum rather than describe it.
BOOKKEEPING = ["file", "file_row", "shard", "row"]


# --- input -----------------------------------------------------------------------------------


def is_spectrum_file(path: Path) -> bool:
    return path.name.lower().removesuffix(".gz").endswith(SPECTRUM_SUFFIXES)


def discover_files(specs: Sequence[str | Path]) -> list[Path]:
    """The spectrum files named by `specs`, each a spectrum file, a directory, a glob, or a
    text file listing one path a line (how a survey of millions of files is named)."""
    files: list[Path] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            files += [p for p in path.iterdir() if is_spectrum_file(p)]
        elif path.is_file() and not is_spectrum_file(path):
            lines = (line.strip() for line in path.read_text().splitlines())
            files += [Path(line) for line in lines if line and not line.startswith("#")]
        elif path.is_file():
            files.append(path)
        else:
            files += [Path(p) for p in glob.glob(str(spec))]
    if not files:
        raise MissingInput(f"pool.files: {' '.join(map(str, specs))} names no spectrum files")
    return sorted(set(files))


def write_shard_lists(files: Sequence[Path], shard_size: int, out_dir: str | Path) -> int:
    """Split the file list into shards of `shard_size` files, one list file each."""
    with atomic_output(out_dir) as tmp:
        tmp.mkdir()
        for number, start in enumerate(range(0, len(files), shard_size)):
            chunk = files[start : start + shard_size]
            (tmp / f"{number:05d}.txt").write_text("".join(f"{f}\n" for f in chunk))
    return -(-len(files) // shard_size)


# --- one shard -------------------------------------------------------------------------------


class _ShardWriter:
    """Appends blocks of resampled spectra to the shard's store and catalogue parts."""

    def __init__(self, directory: Path, grid: np.ndarray, block_size: int) -> None:
        self.directory, self.grid, self.block_size = directory, grid, block_size
        self.store = directory / SHARD_STORE
        (directory / SHARD_CATALOG).mkdir(parents=True)
        self.written, self.parts = 0, 0
        self._clear()

    def _clear(self) -> None:
        self.flux: list[np.ndarray] = []
        self.ivar: list[np.ndarray] = []
        self.rows: list[dict] = []

    def add(self, flux: np.ndarray, ivar: np.ndarray, row: dict) -> None:
        self.flux.append(flux)
        self.ivar.append(ivar)
        self.rows.append(row | {"row": self.written + len(self.rows)})
        if len(self.rows) == self.block_size:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        dims = ("spectrum", "wavelength")
        block = xr.Dataset(
            {
                "flux": (dims, np.asarray(self.flux, dtype=np.float32)),
                "ivar": (dims, np.asarray(self.ivar, dtype=np.float32)),
            },
            coords={
                "id": ("spectrum", as_strings([r["id"] for r in self.rows])),
                "wavelength": ("wavelength", self.grid, {"units": "Angstrom"}),
            },
        )
        encoding = {"chunks": (self.block_size, self.grid.size), "compressors": [COMPRESSOR]}
        append_block(block, self.store, {"flux": encoding, "ivar": encoding})
        pd.DataFrame(self.rows).to_parquet(
            self.directory / SHARD_CATALOG / f"part-{self.parts:05d}.parquet", index=False
        )
        self.written += len(self.rows)
        self.parts += 1
        self._clear()


def ingest_shard(
    files: Iterable[Path],
    out_dir: str | Path,
    grid: np.ndarray,
    metadata: Sequence[str],
    block_size: int,
    total: int | None = None,
) -> tuple[int, int]:
    """Read, check and resample every spectrum of the files; return (ingested, quarantined).

    Every spectrum lands either in the store or in the quarantine table with its reason.
    The files are streamed and nothing is kept per spectrum, so memory is one block deep
    however long the shard; duplicate ids are found by `gather`, across all shards.
    """
    quarantine: list[dict] = []
    progress = tqdm(
        files, total=total, desc=f"ingest {Path(out_dir).name}", unit="files", mininterval=5
    )
    with atomic_output(out_dir) as tmp:
        tmp.mkdir()
        writer = _ShardWriter(tmp, grid, block_size)
        for path in progress:
            for record in read_spectra(path, metadata):
                if isinstance(record, Spectrum):
                    record = _onto_grid(record, path, grid)
                if isinstance(record, Rejected):
                    quarantine.append(record.__dict__)
                    continue
                spectrum, flux, ivar = record
                writer.add(flux, ivar, catalog_row(spectrum, path, metadata))
        writer.flush()
        pd.DataFrame(quarantine, columns=QUARANTINE_COLUMNS).to_parquet(
            tmp / QUARANTINE, index=False
        )
    return writer.written, len(quarantine)


def _onto_grid(
    spectrum: Spectrum, path: Path, grid: np.ndarray
) -> tuple[Spectrum, np.ndarray, np.ndarray] | Rejected:
    """The spectrum on the grid (in vacuum), or why it has no pixel there."""
    wavelength = air_to_vacuum(spectrum.wavelength) if spectrum.air else spectrum.wavelength
    flux, ivar = resample(wavelength, spectrum.flux, spectrum.ivar, grid)
    if not (ivar > 0).any():
        reason = (
            f"no usable pixel on the grid {grid[0]:.0f}-{grid[-1]:.0f} Å "
            f"(the spectrum covers {wavelength.min():.0f}-{wavelength.max():.0f} Å)"
        )
        return Rejected(str(path), reason, spectrum.row, spectrum.id)
    return spectrum, flux, ivar


def catalog_row(spectrum: Spectrum, path: Path, metadata: Sequence[str]) -> dict:
    """id, file, RA and Dec in degrees, and the configured metadata (lower-case keys)."""
    meta = spectrum.meta
    return {
        "id": spectrum.id,
        "file": str(path),
        "file_row": spectrum.row,
        "ra": _degrees(meta, RA_KEYS, hours=True),
        "dec": _degrees(meta, DEC_KEYS, hours=False),
    } | {
        key.lower(): _text_or_number(meta.get(key.upper()))
        for key in metadata
        if key.upper() not in ("RA", "DEC")
    }


def _degrees(meta: dict, keys: Sequence[str], hours: bool) -> float:
    """A coordinate in degrees from the first key present; sexagesimal strings are parsed
    (RA in hours)."""
    value = next((meta[k] for k in keys if meta.get(k) not in (None, "")), None)
    if value is None:
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return float(Angle(str(value), unit="hourangle" if hours else "deg").degree)


def _text_or_number(value: object) -> object:
    """Metadata values as one type per column: numbers as floats, anything else as text."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


# --- all shards ------------------------------------------------------------------------------


def read_shard_catalog(shard: Path) -> pd.DataFrame:
    parts = sorted((shard / SHARD_CATALOG).glob("part-*.parquet"))
    if not parts:
        return pd.DataFrame(columns=["id", "file", "row"])
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def gather_shards(
    lists: str | Path,
    shards: Sequence[str | Path],
    catalog_path: str | Path,
    quarantine_path: str | Path,
) -> pd.DataFrame:
    """One catalogue and one quarantine table over all shards, after checking that every
    listed file is accounted for and every shard store matches its catalogue. A repeated
    id is quarantined (the first one read stays): within a shard or across shards."""
    catalogs, quarantines, problems = [], [], []
    listed = 0
    for shard in map(Path, sorted(shards)):
        files = Path(lists, f"{shard.name}.txt").read_text().splitlines()
        listed += len(files)
        catalog = read_shard_catalog(shard).assign(shard=shard.name)
        quarantine = pd.read_parquet(shard / QUARANTINE).assign(shard=shard.name)
        stored = open_store(shard / SHARD_STORE).sizes["spectrum"] if len(catalog) else 0
        if stored != len(catalog):
            problems.append(f"shard {shard.name}: {stored} spectra stored, {len(catalog)} listed")
        lost = set(files) - set(catalog["file"]) - set(quarantine["file"])
        if lost:
            problems.append(
                f"shard {shard.name}: {len(lost)} file(s) neither ingested nor "
                f"quarantined, e.g. {sorted(lost)[:3]}"
            )
        catalogs.append(catalog)
        quarantines.append(quarantine)
    if problems:
        raise ReconciliationError("the pool does not add up:\n  " + "\n  ".join(problems))
    catalog = pd.concat(catalogs, ignore_index=True)
    first = catalog.drop_duplicates("id")
    repeated = catalog.loc[catalog.duplicated("id")].merge(
        first[["id", "file"]], on="id", suffixes=("", "_first")
    )
    duplicates = repeated.assign(
        reason="duplicate id " + repeated["id"] + ", first read from " + repeated["file_first"]
    )[["file", "file_row", "id", "reason", "shard"]].rename(columns={"file_row": "row"})
    quarantine = pd.concat([*quarantines, duplicates], ignore_index=True)
    write_table(quarantine, quarantine_path)
    write_table(first.sort_values(["shard", "row"], ignore_index=True), catalog_path)
    logger.info(
        f"gather: {listed} files in; {len(first)} spectra ingested, "
        f"{len(quarantine)} quarantined ({quarantine['file'].nunique()} files)"
    )
    return first
