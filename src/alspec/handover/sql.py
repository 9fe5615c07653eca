"""Ask the session's tables in SQL: DuckDB over the Parquet and CSV files in results/.

Named views, each present when its files are:

    catalog      the pool's catalogue (results/pool/catalog.parquet)
    labels       every answer of every session (results/pool/labels.parquet)
    predictions  every iteration's predictions, with an `iteration` column
    candidates   every iteration's candidate catalogue (results/iterations/<n>/catalogue)

DuckDB reads only the columns and row groups a query needs, so a filter over a
catalogue of 10^7 rows answers in seconds without loading it.
"""

from __future__ import annotations

from pathlib import Path

from alspec import layout

ITERATION = r"regexp_extract(filename, 'iterations/(\d+)/', 1)::INTEGER AS iteration"


def views(results: Path) -> dict[str, str]:
    """The SELECT behind each view whose files exist under `results`."""
    pool, iterations = layout.under(results, layout.POOL), layout.under(results, layout.ITERATIONS)
    found = {}
    for name, path in (
        ("catalog", pool / layout.CATALOG),
        ("labels", pool / layout.LABEL_CATALOGUE),
    ):
        if path.exists():
            found[name] = f"SELECT * FROM read_parquet('{path}')"
    each = {
        "predictions": (layout.PREDICTIONS, "read_parquet"),
        "candidates": (f"{layout.CATALOGUE_FOLDER}/{layout.CATALOGUE_FILES['csv']}", "read_csv"),
    }
    for name, (file, reader) in each.items():
        pattern = iterations / "*" / file
        if any(iterations.glob(f"*/{file}")):
            found[name] = (
                f"SELECT * EXCLUDE (filename), {ITERATION}"
                f" FROM {reader}('{pattern}', filename = true, union_by_name = true)"
            )
    return found
