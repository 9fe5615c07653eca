"""File-level helpers shared by every step: atomic outputs and label tables."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path`, moved into place only if the block succeeds.

    A step killed midway thus never leaves a partial file or store under the real name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".partial-{path.name}")  # same suffix: some writers insist on it
    _remove(tmp)
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    _remove(path)
    os.replace(tmp, path)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def read_table(
    path: str | Path, required: tuple[str, ...] = (), ids: Collection[str] | None = None
) -> pd.DataFrame:
    """Read a Parquet or CSV table; a missing column is an error naming file and column.
    With `ids`, only their rows: a Parquet file is filtered as it is read, so a pool's
    10^7-row catalogue costs memory for the rows asked for alone."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() == ".csv":
        table = pd.read_csv(path)
    elif ids is not None and len(ids) == 0:
        table = pq.read_schema(path).empty_table().to_pandas()
    else:
        wanted = [("id", "in", [str(i) for i in ids])] if ids is not None else None
        table = pd.read_parquet(path, filters=wanted)
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; it has {list(table.columns)}")
    if "id" in table.columns:
        table["id"] = table["id"].astype(str)
        if ids is not None:
            table = table.loc[table["id"].isin(set(ids))].reset_index(drop=True)
    return table


def write_table(table: pd.DataFrame, path: str | Path) -> None:
    with atomic_output(path) as tmp:
        table.to_parquet(tmp, index=False)


def write_text(text: str, path: str | Path) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def write_json(data: dict[str, Any], path: str | Path) -> None:
    write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", path)


def read_json(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def as_strings(values: Sequence[str] | np.ndarray) -> np.ndarray:
    """Strings as Zarr v3's variable-length `string` (ids, names differ in length)."""
    return np.asarray(values, dtype=object)


def concatenate_tables(parts: Sequence[str | Path], out: str | Path) -> int:
    """Join Parquet tables of one schema into `out`, one part in memory at a time."""
    rows = 0
    with atomic_output(out) as tmp:
        schema = pq.read_schema(parts[0])
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:
                table = pq.read_table(part)
                if not table.schema.equals(schema):
                    raise ValueError(f"{part}: its columns differ from {parts[0]}'s")
                writer.write_table(table)
                rows += table.num_rows
    return rows
