"""The labels: the cold start, the training set, an external labelled set."""

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
    from alspec.query import first_batch

    batch = call_step(first_batch, args)
    print(f"cold start: {len(batch)} spectra to label")


def _training_set_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("labels", nargs="*", type=Path, help="label tables, oldest first (or none)")
    held_out_option(p)
    p.add_argument("--out", type=Path, required=True)
    settings_options(p, "training-set")


@command(
    "training-set",
    "merge label tables; a later answer replaces an earlier one",
    _training_set_options,
)
def run_training_set(args: argparse.Namespace) -> None:
    from alspec.labels import training_set

    merged = call_step(training_set, args, tables=args.labels)
    print(f"training set: {len(merged)} labelled spectra: {counts(merged['label'])}")


def _transfer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="the set's spectrum files, directories or globs")
    p.add_argument("--labels", type=Path, required=True, help="table of id, label")
    p.add_argument("--out", type=Path, required=True, help="the set's window store")
    p.add_argument(
        "--labels-out", type=Path, required=True, help="its labels, in the pool's classes"
    )
    settings_options(p, "transfer")


@command(
    "transfer",
    "make a labelled set from another instrument look like the pool: vacuum, resolution, window",
    _transfer_options,
)
def run_transfer(args: argparse.Namespace) -> None:
    from alspec.transfer import transfer_set

    settings = step_settings(args)
    kept = call_step(transfer_set, args, settings=settings)
    source, target = settings["initial"]["external"], settings["pool"]
    print(
        f"transfer: {len(kept)} spectra from R {source['resolving_power']:g}"
        f" to R {target['resolving_power']:g}: {counts(kept['label'])}"
    )
