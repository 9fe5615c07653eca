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

import logging
from pathlib import Path

import pandas as pd

from alspec import layout

logger = logging.getLogger(__name__)

ITERATION = r"regexp_extract(filename, 'iterations/(\d+)/', 1)::INTEGER AS iteration"


def views(results: Path) -> dict[str, str]:
    """The SELECT behind each view whose files exist under `results`."""
    pool, iterations = layout.under(results, layout.POOL), layout.under(results, layout.ITERATIONS)
    found = {}
    for name, path in (("catalog", pool / "catalog.parquet"), ("labels", pool / layout.ANSWERS)):
        if path.exists():
            found[name] = f"SELECT * FROM read_parquet('{path}')"
    each = {
        "predictions": ("predictions.parquet", "read_parquet"),
        "candidates": ("catalogue/candidates.csv", "read_csv"),
    }
    for name, (file, reader) in each.items():
        pattern = iterations / "*" / file
        if any(iterations.glob(f"*/{file}")):
            found[name] = (
                f"SELECT * EXCLUDE (filename), {ITERATION}"
                f" FROM {reader}('{pattern}', filename = true, union_by_name = true)"
            )
    return found


def run_sql(*, results: str | Path, sql: str, out: Path | None = None) -> pd.DataFrame:
    """Run `sql` over the views of `results`; write the answer to `out` (.csv or
    .parquet) if given, else return it. SQL that DuckDB rejects is one line naming the
    error and the views there are."""
    import duckdb

    connection = duckdb.connect()
    named = views(Path(results))
    for name, select in named.items():
        connection.execute(f"CREATE VIEW {name} AS {select}")
    try:
        relation = connection.sql(sql)
    except duckdb.Error as error:
        first = str(error).splitlines()[0]
        raise ValueError(f"SQL: {first} (views: {', '.join(named) or 'none'})") from None
    if out is None:
        return relation.df()
    if out.suffix not in (".csv", ".parquet"):
        raise ValueError(f"{out}: write .csv or .parquet")
    from alspec.io import atomic_output

    with atomic_output(out) as tmp:
        relation.write_csv(str(tmp)) if out.suffix == ".csv" else relation.write_parquet(str(tmp))
    return duckdb.sql(f"SELECT count(*) AS rows FROM '{out}'").df()
