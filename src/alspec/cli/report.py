"""The report: an iteration's figures, and every iteration's line."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec import layout
from alspec.cli.common import call_step, command, settings_options
from alspec.evaluation.summary import summary_line


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", type=Path, nargs="?", default=Path(layout.RESULTS))
    p.add_argument(
        "--iteration", type=int, help="the iteration to draw (default: the last finished)"
    )
    p.add_argument("--out", type=Path, help="default: results/iterations/<n>/report")
    for store, what in (("window", "the model's input"), ("features", "the map coordinates")):
        p.add_argument(
            f"--{store}", type=Path, help=f"{what} (default: results/pool/{store}.zarr if there)"
        )
    settings_options(p, "report")
    p.epilog += "\nwithout --settings or --config: the iteration's own config.yaml"


@command(
    "report", "draw an iteration's figures; print each iteration's performance", _report_options
)
def run_report(args: argparse.Namespace) -> None:
    from alspec.report.steps import report

    drawn = call_step(report, args)
    for performance in drawn["performance"]:
        print(summary_line(performance))
    figures = drawn["figures"]
    folder = next(iter(figures.values())).parent
    print(f"report of iteration {drawn['iteration']}: {len(figures)} figures in {folder}")
