"""A selection handed on: as CSV, as a VOTable with UCDs, or to TOPCAT over SAMP."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from astropy.table import Table

from alspec.handover.samp import send_table

UCDS = {"id": "meta.id;meta.main", "ra": "pos.eq.ra;meta.main", "dec": "pos.eq.dec;meta.main"}


def as_plain(table: pd.DataFrame) -> pd.DataFrame:
    """Categories as text, so that every writer takes the table."""
    return table.astype(
        {c: str for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)}
    )


def csv_bytes(table: pd.DataFrame) -> io.BytesIO:
    return io.BytesIO(as_plain(table).to_csv(index=False).encode())


def votable(table: pd.DataFrame) -> Table:
    """The selection as an astropy Table, its position and id columns with their UCDs."""
    out = Table.from_pandas(as_plain(table))
    for name, ucd in UCDS.items():
        if name in out.colnames:
            out[name].meta["ucd"] = ucd
    return out


def votable_bytes(table: pd.DataFrame) -> io.BytesIO:
    buffer = io.BytesIO()
    votable(table).write(buffer, format="votable")
    buffer.seek(0)
    return buffer


def to_topcat(table: pd.DataFrame, path: Path) -> list[str]:
    """Send the selection to the SAMP hub's table viewers (TOPCAT), from a VOTable kept
    at `path` (the viewer reads it after this returns); whom it reached."""
    path.parent.mkdir(parents=True, exist_ok=True)
    votable(table).write(path, format="votable", overwrite=True)
    return send_table(path, name=path.stem)
