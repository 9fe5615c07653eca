"""Handing over: the candidate catalogue, SAMP to VO tools, SQL over the results."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec import layout
from alspec.cli.common import call_step, command, settings_options


def _catalogue_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--iteration", type=int, required=True)
    p.add_argument("--candidates", type=Path, required=True, help="the query step's candidates")
    p.add_argument(
        "--answers", type=Path, nargs="+", required=True,
        help="every answer so far: the training set and the iteration's labels",
    )  # fmt: skip
    p.add_argument("--catalog", type=Path, required=True, help="the pool's catalogue")
    p.add_argument("--performance", type=Path, required=True, help=layout.PERFORMANCE)
    p.add_argument("--provenance", type=Path, required=True, help=layout.PROVENANCE)
    p.add_argument("--out", type=Path, required=True, help="the folder to write")
    settings_options(p, "catalogue")


@command(
    "catalogue", "write the catalogue as VOTable, FITS and CSV, cross-matched", _catalogue_options
)
def run_catalogue(args: argparse.Namespace) -> None:
    from alspec.handover.steps import catalogue

    info = call_step(catalogue, args)
    new = "" if info["new_candidates"] is None else f", {info['new_candidates']} new"
    estimates = "".join(
        f", {name} {info[name]:.2f} [{info[f'{name}_low']:.2f}, {info[f'{name}_high']:.2f}]"
        for name in ("precision", "completeness")
        if info[name] is not None
    )
    print(f"catalogue: {info['candidates']} objects{new}{estimates} in {args.out}")


def _samp_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "table", type=Path, nargs="?", default=Path(layout.HANDED_OVER),
        help="a VOTable (default: the last iteration's catalogue)",
    )  # fmt: skip
    p.add_argument("--to", help="only the client of this name, e.g. topcat or aladin")
    p.add_argument("--point", metavar="ID", help="instead, centre the sky viewers on this spectrum")


@command("samp", "send a catalogue to TOPCAT, or a spectrum's position to Aladin", _samp_options)
def run_samp(args: argparse.Namespace) -> None:
    from alspec.handover.steps import samp

    recipients = ", ".join(call_step(samp, args))
    sent = f"{args.point}: position" if args.point else f"{args.table}:"
    print(f"{sent} sent to {recipients}")


def _sql_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("sql", help="e.g. \"SELECT * FROM labels WHERE label = 'double_peak'\"")
    p.add_argument("--results", type=Path, default=Path(layout.RESULTS))
    p.add_argument("--out", type=Path, help="write the answer to .csv or .parquet")


@command(
    "sql",
    "ask the catalog, labels, predictions and candidates in SQL (DuckDB)",
    _sql_options,
)
def run_sql(args: argparse.Namespace) -> None:
    from alspec.handover.steps import sql

    table = call_step(sql, args)
    if args.out:
        print(f"{args.out}: {int(table['rows'][0])} rows")
    else:
        print(table.to_string(index=False, max_rows=200))
