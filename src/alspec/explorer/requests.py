"""Spectra a user asks to have labelled, written where the next iteration's query reads
them (results/iterations/<n>/requested.parquet, an input of its rule): asked first, so
the request is part of what that iteration ran with and a rerun asks the same. An
iteration that has begun is never touched: requests go to the first one that has not
(no training set yet: the answers it learns from are still being given).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from alspec import layout
from alspec.io import write_table
from alspec.vocabulary import REQUESTED

REQUEST_COLUMNS = ("id", "reason", "requested_at", "note")
# An iteration has begun once one of these is in its folder: no request goes there.
BEGUN = (layout.QUERY, layout.TRAINING_SET)


def request_file(results: Path, iteration: int) -> Path:
    """Where the requests for `iteration`'s batch are kept."""
    return layout.under(results, layout.ITERATIONS) / str(iteration) / layout.REQUESTS


def add_requests(
    path: Path, ids: Sequence[str], note: str = "", now: datetime | None = None
) -> pd.DataFrame:
    """Add `ids` to the request file `path` (made if need be), after those already
        there, each once; returns the whole file. Refuses to touch an iteration that has
    begun (its training set or its batch written)."""
    for begun in BEGUN:
        if (path.parent / begun).exists():
            raise FileExistsError(f"{path.parent / begun}: this iteration has begun already")
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    new = pd.DataFrame(
        {"id": list(map(str, ids)), "reason": REQUESTED, "requested_at": when, "note": note}
    )
    old = pd.read_parquet(path) if path.exists() else new.iloc[:0]
    both = pd.concat([old, new], ignore_index=True).drop_duplicates("id", keep="first")
    write_table(both[list(REQUEST_COLUMNS)], path)
    return both
