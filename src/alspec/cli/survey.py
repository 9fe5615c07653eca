"""The survey: simulate one."""

from __future__ import annotations

import argparse
from pathlib import Path

from alspec.cli.common import call_step, command, counts, settings_options
from alspec.layout import SPECTRA, TRUTH


def _simulate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help=f"writes OUT/{SPECTRA}/ and OUT/{TRUTH}")
    p.add_argument(
        "--external",
        action="store_true",
        help="an Ondřejov labelled set instead of the survey (initial.source external)",
    )
    p.add_argument("--workers", type=int, default=1, help="processes writing files")
    settings_options(p, "simulate")


@command("simulate", "write a synthetic LAMOST-format survey with a truth table", _simulate_options)
def run_simulate(args: argparse.Namespace) -> None:
    from alspec.survey.steps import simulate

    truth = call_step(simulate, args)
    kind = "label" if "kind" not in truth else "kind"
    print(f"wrote {len(truth)} spectra to {args.out / SPECTRA}: {counts(truth[kind])}")
