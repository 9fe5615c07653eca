"""The query: which spectra to ask next."""

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
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--candidates", type=Path, required=True)
    settings_options(p, "query")


@command("query", "choose the batch to ask: most uncertain plus random candidates", _query_options)
def run_query(args: argparse.Namespace) -> None:
    from alspec.query import choose_batch

    settings = step_settings(args)
    batch, found = call_step(choose_batch, args, candidates_out=args.candidates, settings=settings)
    print(
        f"query ({settings['query']['strategy']}): {len(batch)} spectra to label"
        f" ({counts(batch['reason'])}); {len(found)} candidates"
    )
