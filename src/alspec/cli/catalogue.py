"""Handing over: the candidate catalogue, SAMP to VO tools, SQL over the results."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec.cli.common import call_step, command, settings_options


def _catalogue_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--candidates", type=Path, required=True, help="the query step's candidates")
    p.add_argument(
        "--answers", type=Path, nargs="+", required=True,
        help="every answer so far: the training set and the iteration's labels",
    )  # fmt: skip
    p.add_argument("--catalog", type=Path, required=True, help="the pool's catalog.parquet")
    p.add_argument("--performance", type=Path, required=True, help="performance.json")
    p.add_argument("--provenance", type=Path, required=True, help="provenance.json")
    p.add_argument("--out", type=Path, required=True, help="the folder to write")
    settings_options(p, "catalogue")


@command(
    "catalogue", "write the candidates as VOTable, FITS and CSV, cross-matched", _catalogue_options
)
def run_catalogue(args: argparse.Namespace) -> None:
    from alspec.catalogue import write_catalogue

    info = call_step(write_catalogue, args)
    new = "" if info["new_candidates"] is None else f", {info['new_candidates']} new"
    error = info["estimated_error"]
    estimate = "" if error is None else f", estimated error {error:.1%}"
    print(f"catalogue: {info['candidates']} candidates{new}{estimate} in {args.out}")


def _samp_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "table", type=Path, nargs="?", default=Path("results/catalogue/candidates.vot"),
        help="a VOTable (default: the last iteration's catalogue)",
    )  # fmt: skip
    p.add_argument("--to", help="only the client of this name, e.g. topcat or aladin")
    p.add_argument("--point", metavar="ID", help="instead, centre the sky viewers on this spectrum")


@command("samp", "send a catalogue to TOPCAT, or a spectrum's position to Aladin", _samp_options)
def run_samp(args: argparse.Namespace) -> None:
    from alspec.samp import point_at, send_table

    if args.point is None:
        sent = send_table(args.table, to=args.to)
        print(f"{args.table}: sent to {', '.join(sent)}")
        return
    from astropy.table import Table

    table = Table.read(args.table, format="votable")
    rows = table[[str(i) == args.point for i in table["id"]]]
    if not len(rows):
        raise KeyError(f"{args.table}: no spectrum {args.point}")
    sent = point_at(float(rows["ra"][0]), float(rows["dec"][0]), to=args.to)
    print(f"{args.point}: position sent to {', '.join(sent)}")


def _sql_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("sql", help="e.g. \"SELECT * FROM labels WHERE label = 'double_peak'\"")
    p.add_argument("--results", type=Path, default=Path("results"))
    p.add_argument("--out", type=Path, help="write the answer to .csv or .parquet")


@command(
    "sql",
    "ask the catalog, labels, predictions and candidates in SQL (DuckDB)",
    _sql_options,
)
def run_sql(args: argparse.Namespace) -> None:
    from alspec.sql import run_sql as answer

    table = call_step(answer, args)
    if args.out:
        print(f"{args.out}: {int(table['rows'][0])} rows")
    else:
        print(table.to_string(index=False, max_rows=200))
