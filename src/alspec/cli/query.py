"""The query: the first batch to ask, and each iteration's."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec.cli.common import (
    call_step,
    command,
    counts,
    held_out_option,
    settings_options,
    step_settings,
)


def _cold_start_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--window", type=Path, required=True)
    p.add_argument("--ids", type=Path, help="ask these spectra instead: a file of ids, one a line")
    held_out_option(p)
    p.add_argument("--out", type=Path, required=True)
    settings_options(p, "cold-start")


@command(
    "cold-start",
    "the first batch to label: drawn at random from the pool (FR5) or chosen (FR7)",
    _cold_start_options,
)
def run_cold_start(args: argparse.Namespace) -> None:
    from alspec.query.steps import cold_start

    batch = call_step(cold_start, args)
    print(f"cold start: {len(batch)} spectra to label")


def _query_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--predictions", type=Path, required=True)
    p.add_argument(
        "--training-set", type=Path, required=True, help="answers so far: never re-asked"
    )
    held_out_option(p)
    p.add_argument("--iteration", type=int, default=0, help="its seed: query.seed + iteration")
    p.add_argument("--window", type=Path, help="the pool's window store (query.diversity)")
    p.add_argument("--features", type=Path, help="the pool's features store (discovery)")
    p.add_argument("--anomaly-scores", type=Path, help="alspec detect's table (discovery)")
    p.add_argument(
        "--requested", type=Path, help="spectra a user asked for in alspec explore: asked first"
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--candidates", dest="candidates_out", type=Path, required=True)
    settings_options(p, "query")


@command("query", "choose the batch: most uncertain plus the estimate sample", _query_options)
def run_query(args: argparse.Namespace) -> None:
    from alspec.query.steps import query

    settings = step_settings(args)
    batch, found = call_step(query, args, settings=settings)
    print(
        f"query ({settings['query']['strategy']}): {len(batch)} spectra to label"
        f" ({counts(batch['reason'])}); {len(found)} candidates"
    )
