"""The handover stage's steps, one per command: `catalogue` writes an iteration's
candidates as VOTable, FITS and CSV, `samp` sends them to the VO tools an astronomer has
open, `sql` asks the session's tables (workflow/rules/handover.smk)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from alspec import layout
from alspec.errors import InputError
from alspec.evaluation.provenance import config_checksum
from alspec.handover.catalogue import (
    as_astropy,
    candidate_table,
    estimate_info,
    write_fits,
    write_votable,
)
from alspec.handover.crossmatch import crossmatch
from alspec.handover.samp import point_at, position_of, send_table
from alspec.handover.sql import views
from alspec.io import atomic_output, read_json, read_table
from alspec.query.batch import candidates as handed_over
from alspec.vocabulary import PREDICTED

logger = logging.getLogger(__name__)


def catalogue(
    *,
    iteration: int,
    candidates: str | Path,
    answers: Sequence[str | Path],
    catalog: str | Path,
    performance: str | Path,
    provenance: str | Path,
    out: Path,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """The catalogue step: iteration `iteration`'s catalogue, once its batch is answered
    (every spectrum of the `answers` whose latest answer is a class of interest, and the
    `candidates` the model predicted that are still unanswered), as `out`/candidates.vot,
    .fits and .csv, cross-matched with config `crossmatch`'s catalogues; the estimated
    precision and completeness and the provenance (git commit, checksum of the
    iteration's config) in their metadata. Returns the metadata and the counts."""
    chosen = settings["catalogue"]
    listed = read_table(candidates, required=("id", "label", "probability", "source"))
    known = pd.concat([read_table(a, required=("id", "label")) for a in answers])
    predicted = listed.loc[listed["source"] == PREDICTED].rename(columns={"label": "predicted"})
    members = handed_over(predicted, known, settings["classes_of_interest"])
    pool = read_table(catalog, ids=members["id"])
    table = candidate_table(members, known, pool, metadata=chosen["metadata"], iteration=iteration)
    table, matched = crossmatch(table, settings["crossmatch"])
    record = read_json(provenance)
    info = {
        "iteration": iteration,
        "candidates": len(table),
        "new_candidates": int(table["new"].sum()) if "new" in table else None,
        **estimate_info(read_json(performance)),
        "git_commit": (record.get("git") or {}).get("commit"),
        "config_sha256": config_checksum(record["config"]) if "config" in record else None,
        **{f"matched_{name}": n for name, n in matched.items()},
    }
    astropy_table = as_astropy(table)
    out.mkdir(parents=True, exist_ok=True)
    write_votable(astropy_table, info, out / layout.CATALOGUE_FILES["votable"])
    write_fits(astropy_table, info, out / layout.CATALOGUE_FILES["fits"])
    with atomic_output(out / layout.CATALOGUE_FILES["csv"]) as tmp:
        table.to_csv(tmp, index=False)
    logger.info("catalogue of iteration %d: %d candidates in %s", iteration, len(table), out)
    return info


def samp(
    *,
    table: Path = Path(layout.HANDED_OVER),
    to: str | None = None,
    point: str | None = None,
) -> list[str]:
    """The samp step: the VOTable `table` (default the last iteration's catalogue) sent to
    every SAMP client that takes tables, or the one named `to`; or, with `point`, the
    sky viewers centred on that spectrum. Returns the clients it went to."""
    if point is None:
        return send_table(table, to=to)
    ra, dec = position_of(table, point)
    return point_at(ra, dec, to=to)


def sql(*, results: str | Path, sql: str, out: Path | None = None) -> pd.DataFrame:
    """The sql step: `sql` over the views of `results` (alspec.handover.sql); the answer
    written to `out` (.csv or .parquet) if given (its row count returned), else returned.
    SQL that DuckDB rejects is one line naming the error and the views there are."""
    connection = duckdb.connect()
    named = views(Path(results))
    for name, select in named.items():
        connection.execute(f"CREATE VIEW {name} AS {select}")
    try:
        relation = connection.sql(sql)
    except duckdb.Error as error:
        first = str(error).splitlines()[0]
        raise InputError(f"SQL: {first} (views: {', '.join(named) or 'none'})") from None
    if out is None:
        return relation.df()
    if out.suffix not in (".csv", ".parquet"):
        raise InputError(f"{out}: write .csv or .parquet")
    with atomic_output(out) as tmp:
        relation.write_csv(str(tmp)) if out.suffix == ".csv" else relation.write_parquet(str(tmp))
    return duckdb.sql(f"SELECT count(*) AS rows FROM '{out}'").df()
