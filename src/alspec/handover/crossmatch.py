"""New or known: a sky cross-match of the candidates with catalogues of the user's.

Each catalogue of config `crossmatch` (CSV, FITS, VOTable or Parquet; its id, RA and Dec
columns named; a radius in arcsec) is read in chunks of rows, and each chunk matched
against the candidates with astropy's `search_around_sky`: memory stays bounded by the
chunk whatever the catalogue's size, and each candidate keeps its nearest match.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from astropy.coordinates import SkyCoord, search_around_sky
from astropy.table import Table

from alspec.errors import InputError, MissingInput

logger = logging.getLogger(__name__)

CHUNK = 2_000_000  # catalogue rows matched at once (about 200 MB)


def _chunks(spec: Mapping[str, Any]) -> Iterator[pd.DataFrame]:
    """The catalogue's id, ra and dec columns, CHUNK rows at a time; a file that cannot
    be read, or lacks a named column, is an error naming both."""
    path, columns = Path(spec["path"]), [spec["id"], spec["ra"], spec["dec"]]
    where = f"crossmatch {spec['name']}: {path}"
    if not path.exists():
        raise MissingInput(f"{where}: no such file")
    try:
        names = _column_names(path)
    except Exception as error:
        raise InputError(
            f"{where}: cannot be read as CSV, FITS, VOTable or Parquet ({error})"
        ) from None
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputError(f"{where}: no column(s) {missing}; it has {names[:20]}")
    rename = dict(zip(columns, ("id", "ra", "dec"), strict=True))
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(CHUNK, columns=columns):
            yield batch.to_pandas().rename(columns=rename)
    elif suffix == ".csv":
        yield from (
            c.rename(columns=rename) for c in pd.read_csv(path, usecols=columns, chunksize=CHUNK)
        )
    else:
        read = Table.read(path)[columns]
        for name in read.colnames:
            if read[name].dtype.kind == "S":  # FITS strings are bytes
                read[name] = read[name].astype(str)
        table = read.to_pandas().rename(columns=rename)
        yield from (table.iloc[i : i + CHUNK] for i in range(0, len(table), CHUNK))


def _column_names(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pq.read_schema(path).names
    if suffix == ".csv":
        return list(pd.read_csv(path, nrows=0).columns)
    return list(Table.read(path).colnames)


def nearest_matches(
    ra: np.ndarray, dec: np.ndarray, catalogue: Iterator[pd.DataFrame], radius_arcsec: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each position (degrees; NaN: none), the id of its nearest catalogue row within
    `radius_arcsec` and the separation in arcsec; "" and NaN where there is none."""
    best_id = np.full(len(ra), "", dtype=object)
    best_separation = np.full(len(ra), np.inf)
    placed = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec))
    if placed.size:
        here = SkyCoord(ra[placed] * u.deg, dec[placed] * u.deg)
        for chunk in catalogue:
            chunk = chunk.dropna(subset=["ra", "dec"])
            there = SkyCoord(
                chunk["ra"].to_numpy(float) * u.deg, chunk["dec"].to_numpy(float) * u.deg
            )
            mine, theirs, separation, _ = search_around_sky(here, there, radius_arcsec * u.arcsec)
            arcsec = separation.to_value(u.arcsec)
            order = np.argsort(arcsec)[::-1]  # nearest last, so that it is written last
            rows, ids = placed[mine[order]], chunk["id"].to_numpy()[theirs[order]]
            closer = arcsec[order] < best_separation[rows]
            best_id[rows[closer]] = [str(i) for i in ids[closer]]
            best_separation[rows[closer]] = arcsec[order][closer]
    best_separation[~np.isfinite(best_separation)] = np.nan
    return best_id, best_separation


def crossmatch(
    table: pd.DataFrame, catalogues: Sequence[Mapping[str, Any]]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The candidates (`ra`, `dec`) with `<name>_id` and `<name>_separation` per catalogue
    of config `crossmatch`, and `new`: matched in none. Returns it and the matches per
    catalogue."""
    if not catalogues:
        return table, {}
    table = table.copy()
    matched = {}
    ra, dec = table["ra"].to_numpy(float), table["dec"].to_numpy(float)
    for spec in catalogues:
        name = spec["name"]
        ids, separation = nearest_matches(ra, dec, _chunks(spec), spec["radius_arcsec"])
        table[f"{name}_id"], table[f"{name}_separation"] = ids, separation
        matched[name] = int((ids != "").sum())
        logger.info("crossmatch %s: %d of %d candidates matched", name, matched[name], len(table))
    table["new"] = ~np.any([table[f"{s['name']}_id"] != "" for s in catalogues], axis=0)
    return table, matched
